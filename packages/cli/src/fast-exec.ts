/**
 * `latchkey exec` without oclif: the bin script tries this first. It answers the plain forms
 * (`--provider ID`…, `--account NAME`, `--env NAME=REF`…, `--no-masking`, then `--` and COMMAND) for the
 * bundled providers (facts compiled in) and those a usable provider cache knows, and returns undefined for
 * everything else (help, other flags, no `--`, a provider it does not know), so the full CLI handles it
 * with the same code.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { isLatchkeyError, toLatchkeyError } from '@latchkey/errors';
import { checkProviderDefinitionsFile, resolveConfigDir, resolveStoragePreference } from '@latchkey/storage';
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
  let values;
  try {
    ({ values } = parseArgs({
      args: argv.slice(0, split),
      options: {
        provider: { type: 'string', short: 'p', multiple: true },
        account: { type: 'string' },
        env: { type: 'string', multiple: true },
        'no-masking': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch {
    return undefined;
  }
  const providers = values.provider ?? [];
  if (providers.some((p) => !p.trim()) || values.account?.trim() === '') return undefined;
  return {
    providers,
    account: values.account,
    env: values.env ?? [],
    masking: !values['no-masking'],
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
  try {
    // A bad LATCHKEY_STORAGE is exit 2 on every command (COMMAND never starts).
    resolveStoragePreference(undefined, env);
    // The cache may hold providers from providers.json: that file is held to its checks all the same.
    checkProviderDefinitionsFile(resolveConfigDir(env));
  } catch (error) {
    return report(error, io);
  }
  const { providers, complete } = readProviders(env);
  // A provider only its plugin's hook knows, or, without a usable cache, anything but bundled providers
  // named with --provider (a reference may name any provider): the full CLI finds it.
  if (request.providers.some((id) => !providers.has(id))) return undefined;
  const references = () => Object.values(env).some((value) => value !== undefined && isReference(value));
  if (!complete && (request.env.length > 0 || references())) return undefined;
  return runExec(request, providers, io);
}
