/**
 * `latchkey auth token` without oclif: bin/run.cjs tries this first. It reads argv against the command's
 * own flag definitions (command-flags.ts) and runs the command's own lookup (token/token-lookup.ts); it
 * returns undefined for anything else (help, a form util.parseArgs does not read plainly, a provider it
 * does not know, a question to ask), and the full CLI handles that with the same code and output.
 */
import { isLatchkeyError } from '@latchkey/errors';
import { resolveStoragePreference } from '@latchkey/storage';
import { readFlags, tokenFlags } from '../command-flags.js';
import { readProviders } from '../providers/installed-providers.js';
import { chooseProvider } from '../providers/provider-facts.js';
import { isCi, mayAskPassphrase, readOnlyStore } from '../runtime/environment.js';
import { resolveTokenFrom } from '../token/token-lookup.js';
import { reportError } from '../render-error.js';
import { printLine } from './fast-output.js';

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
  // Only asked when several providers apply: touching process.stdin creates its stream (a few ms).
  const interactive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY) && !isCi(env);
  let token: string;
  try {
    // A bad LATCHKEY_STORAGE is exit 2 on every command, also where nothing is stored.
    resolveStoragePreference(undefined, env);
    // Without every provider known (a plugin it cannot read as plainly as oclif), only a provider it
    // knows, named on the command line, is answered here; the full CLI knows the others.
    // A passphrase that may have to be typed: the full CLI asks for it.
    if (mayAskPassphrase(env, interactive)) return undefined;
    const { providers, complete } = await readProviders(env);
    if (!complete && (requested === undefined || !providers.has(requested))) return undefined;
    const result = await resolveTokenFrom(
      providers,
      env,
      readOnlyStore(env),
      requested,
      async (candidates) => {
        if (requested === undefined && candidates.length > 1 && interactive()) throw handOver;
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
    return reportError(error, {
      json: false,
      compact: false,
      warnings: [],
      env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  }
  return printLine(`${token}\n`);
}
