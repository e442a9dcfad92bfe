/**
 * `latchkey exec` without oclif: bin/run.cjs tries this first. It reads the flags before `--` against the
 * command's own definitions (command-flags.ts) and runs the command's own code (runExec, below); it
 * returns undefined for anything else (help, no `--`, a form util.parseArgs does not read plainly, a
 * provider it does not know), and the full CLI handles that with the same code.
 */
import type { Writable } from 'node:stream';
import { isLatchkeyError, toLatchkeyError } from '@latchkey/errors';
import { resolveStoragePreference } from '@latchkey/storage';
import { execFlags, readFlags } from './command-flags.js';
import { runChild, type ChildOutcome } from './exec/child.js';
import { execEnvironment, type ExecRequest } from './exec/environment.js';
import { forTerminal, readOnlyStore } from './host/environment.js';
import { readProviders } from './host/provider-cache.js';
import { isReference } from './host/references.js';
import type { StaticProvider } from './host/provider-facts.js';
import { reportError } from './render-error.js';

export interface ExecArgs extends ExecRequest {
  masking: boolean;
  command: string;
  args: string[];
}

/** The request, or undefined for anything but the plain forms (oclif parses those, with its messages). */
export function parseExecArgs(argv: string[]): ExecArgs | undefined {
  const split = argv.indexOf('--');
  if (split === -1 || split === argv.length - 1) return undefined;
  const read = readFlags(execFlags, argv.slice(0, split), 0);
  if (!read) return undefined;
  const { provider, account, env, masking } = read.flags;
  return {
    providers: provider ?? [],
    account,
    env: env ?? [],
    masking,
    command: argv[split + 1]!,
    args: argv.slice(split + 2),
  };
}

export interface ExecIo {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
}

/**
 * Resolves the environment, runs COMMAND and returns the exit code to leave with: COMMAND's own (128+N
 * for signal N), 127 when it is not found, 126 when it cannot be run, or latchkey's code when a reference
 * could not be resolved (COMMAND not started). Shared by the fast path and the `exec` command.
 */
export async function runExec(
  request: ExecArgs,
  providers: Map<string, StaticProvider>,
  io: ExecIo,
): Promise<number> {
  let prepared;
  try {
    prepared = await execEnvironment(request, {
      providers,
      env: io.env,
      store: readOnlyStore(io.env),
      cwd: io.cwd,
    });
  } catch (error) {
    return report(error, io);
  }
  const outcome: ChildOutcome = await runChild({
    command: request.command,
    args: request.args,
    env: prepared.env,
    mask: request.masking ? prepared.secrets : undefined,
    stdout: io.stdout,
    stderr: io.stderr,
    signals: process,
  });
  if (outcome.kind === 'not-found') {
    io.stderr.write(`latchkey: ${forTerminal(request.command, true)} not found\n`);
    io.stderr.write('  Check the name, or give its path (PATH is searched).\n');
  } else if (outcome.kind === 'not-executable') {
    io.stderr.write(`latchkey: ${forTerminal(request.command, true)}: permission denied (not executable)\n`);
  }
  return outcome.exitCode;
}

function report(error: unknown, io: ExecIo): number {
  return reportError(isLatchkeyError(error) ? error : toLatchkeyError(error), {
    json: false,
    compact: false,
    warnings: [],
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
  });
}

/** The fast path: an exit code, or undefined to hand over to the full CLI. */
export async function fastExec(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const request = parseExecArgs(argv);
  if (!request) return undefined;
  const io = { env, cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr };
  let known;
  try {
    // A bad LATCHKEY_STORAGE is exit 2 on every command (COMMAND never starts).
    resolveStoragePreference(undefined, env);
    known = await readProviders(env);
  } catch (error) {
    return report(error, io);
  }
  const { providers, complete } = known;
  // A provider only its plugin's hook knows, or, without every provider known, anything but the known
  // ones named with --provider (a reference may name any provider): the full CLI finds it.
  if (request.providers.some((id) => !providers.has(id))) return undefined;
  const references = () => Object.values(env).some((value) => value !== undefined && isReference(value));
  if (!complete && (request.env.length > 0 || references())) return undefined;
  return runExec(request, providers, io);
}
