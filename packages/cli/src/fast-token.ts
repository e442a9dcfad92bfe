/**
 * `latchkey auth token` without oclif: the bin script tries this first. It answers only the plain forms
 * (`auth token`, `--provider ID`, `-p ID`, `--provider=ID`) from a fresh provider cache, and returns
 * undefined for everything else (help, other flags, no or stale cache, a question to ask), so the full CLI
 * handles it with the same code and the same output.
 */
import { isLatchkeyError } from '@latchkey/errors';
import { readProviderCache } from './host/provider-cache.js';
import { chooseProvider } from './host/providers.js';
import { forTerminal, isCi, readOnlyStore } from './host/runtime.js';
import { resolveTokenFrom } from './host/token.js';

const handOver = Symbol('hand over to the full CLI');

function parseProvider(args: string[]): string | undefined | typeof handOver {
  if (args.length === 0) return undefined;
  if (args.length === 1 && args[0]!.startsWith('--provider=') && args[0]!.length > 11)
    return args[0]!.slice(11);
  if (args.length === 2 && (args[0] === '--provider' || args[0] === '-p') && !args[1]!.startsWith('-'))
    return args[1];
  return handOver;
}

export async function fastToken(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const requested = parseProvider(args);
  if (requested === handOver) return undefined;
  const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY) && !isCi(env);
  try {
    const providers = await readProviderCache(env);
    if (!providers) return undefined;
    const store = readOnlyStore(env);
    const signal = new AbortController().signal;
    const result = await resolveTokenFrom(providers, env, store, requested, async (candidates) => {
      if (requested === undefined && candidates.length > 1 && interactive) throw handOver;
      // Not in the cache: maybe a plugin without a static manifest; the full CLI asks its hook.
      if (requested !== undefined && !providers.has(requested)) throw handOver;
      return chooseProvider(
        { interactive: false, signal },
        requested,
        providers,
        candidates,
        'to print a token for',
      );
    });
    process.stdout.write(`${result.token}\n`);
    return 0;
  } catch (error) {
    if (error === handOver || !isLatchkeyError(error)) return undefined;
    process.stderr.write(
      `${forTerminal(`latchkey: ${error.message}${error.action ? ` ${error.action}` : ''}`, true)}\n`,
    );
    return error.exitCode;
  }
}
