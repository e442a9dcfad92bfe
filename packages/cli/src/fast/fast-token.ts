/**
 * `latchkey auth token` without oclif: bin/run.cjs tries this first. It reads argv against the command's
 * own flag definitions (command-flags.ts) and runs the command's own lookup (token/token-lookup.ts); it
 * returns undefined for anything else (help, a form util.parseArgs does not read plainly, a provider it
 * does not know, a question to ask), and the full CLI handles that with the same code and output.
 */
import { isLatchkeyError } from '@latchkey/errors';
import { readFlags, tokenFlags } from '../command-flags.js';
import { chooseProvider } from '../providers/provider-facts.js';
import { readOnlyStore } from '../runtime/environment.js';
import { resolveTokenFrom } from '../token/token-lookup.js';
import { reportText } from '../render-error.js';
import { fastProviders, isInteractive, printLine } from './fast-shared.js';

const handOver = Symbol('hand over to the full CLI');

export async function fastToken(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const read = readFlags(tokenFlags, args, 1);
  if (!read) return undefined;
  const [positional] = read.positionals;
  const { provider: flag, account } = read.flags;
  // Both given and different: oclif's command says so (a usage error).
  if (positional !== undefined && flag !== undefined && positional !== flag) return undefined;
  const requested = positional ?? flag;
  let token: string;
  try {
    const known = await fastProviders(env);
    // Without every provider known (a plugin it cannot read as plainly as oclif), only a provider it
    // knows, named on the command line, is answered here; the full CLI knows the others.
    if (!known || (!known.complete && (requested === undefined || !known.providers.has(requested))))
      return undefined;
    const { providers } = known;
    const result = await resolveTokenFrom(
      providers,
      env,
      readOnlyStore(env),
      requested,
      async (candidates) => {
        // Several apply and a person could choose (only then is the terminal asked: a stdin stream).
        if (requested === undefined && candidates.length > 1 && isInteractive(env)) throw handOver;
        // Not known: maybe a plugin without a static manifest; the full CLI asks its hook.
        if (requested !== undefined && !providers.has(requested)) throw handOver;
        return chooseProvider(
          { interactive: false },
          requested,
          providers,
          candidates,
          'to print a token for',
        );
      },
      { account, cwd: process.cwd() },
    );
    token = result.token;
  } catch (error) {
    if (error === handOver || !isLatchkeyError(error)) return undefined;
    // The same error the full CLI prints for `auth token`: the message, then the action on its own line.
    return reportText(error, { env, stdout: process.stdout, stderr: process.stderr });
  }
  return printLine(`${token}\n`);
}
