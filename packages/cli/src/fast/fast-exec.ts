/**
 * `latchkey exec` without oclif: bin/run.cjs tries this first. It reads the flags before `--` against the
 * command's own definitions (command-flags.ts) and runs the command's own code (exec/run.ts); it returns
 * undefined for anything else (help, no `--`, a form util.parseArgs does not read plainly, a provider it
 * does not know), and the full CLI handles that with the same code.
 */
import { execFlags, readFlags } from '../command-flags.js';
import { report, runExec, type ExecArgs } from '../exec/run.js';
import { isReference } from '../secrets/references.js';
import { fastProviders } from './fast-shared.js';

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
    known = await fastProviders(env); // undefined: a passphrase may have to be asked (the full CLI does)
  } catch (error) {
    return report(error, io); // a bad LATCHKEY_STORAGE or providers.json: COMMAND never starts
  }
  if (!known) return undefined;
  const { providers, complete } = known;
  // A provider only its plugin's hook knows, or, without every provider known, anything but the known
  // ones named with --provider (a reference may name any provider): the full CLI finds it.
  if (request.providers.some((id) => !providers.has(id))) return undefined;
  const references = () => Object.values(env).some((value) => value !== undefined && isReference(value));
  // `--account` alone names the provider by its stored account: it may be one only the full CLI knows.
  const accountAlone = request.account !== undefined && request.providers.length === 0;
  if (!complete && (request.env.length > 0 || accountAlone || references())) return undefined;
  return runExec(request, providers, io);
}
