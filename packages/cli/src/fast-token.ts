/**
 * `latchkey auth token` without oclif: the bin script tries this first. It answers only the plain forms
 * (`auth token`, `--provider ID`, `-p ID`, `--provider=ID`, `--account NAME`, `--account=NAME`) for a
 * bundled provider (facts compiled in) or one a usable provider cache knows, and returns undefined for
 * everything else (help, other flags, a provider it does not know, a question to ask), so the full CLI
 * handles it with the same code and the same output.
 */
import { isLatchkeyError } from '@latchkey/errors';
import { checkProviderDefinitionsFile, resolveConfigDir, resolveStoragePreference } from '@latchkey/storage';
import { readProviders } from './host/provider-cache.js';
import { chooseProvider } from './host/provider-facts.js';
import { isCi, readOnlyStore } from './host/environment.js';
import { resolveTokenFrom } from './host/token-lookup.js';
import { reportError } from './render-error.js';
import { printLine } from './fast-output.js';

export const handOver = Symbol('hand over to the full CLI');

export interface TokenArgs {
  provider?: string;
  account?: string;
}

/** A Map, not an object: an argument such as `toString` must not find Object.prototype's members. */
const optionNames = new Map<string, keyof TokenArgs>([
  ['--provider', 'provider'],
  ['-p', 'provider'],
  ['--account', 'account'],
]);

/**
 * The provider and account `auth token` was asked for (each may be absent), or `handOver` for anything but
 * the plain forms (`PROVIDER`, `--provider ID`, `-p ID`, `--provider=ID`, `--account NAME`, `--account=NAME`,
 * each at most once): help, other flags, `-pID`, an empty or missing value, a value that looks like a flag,
 * a repeated flag, `--`, a second argument, an argument and a different --provider. oclif parses those,
 * with its own messages.
 *
 * Written out rather than util.parseArgs: loading node:util's parser costs `auth token` some 0.7 ms on
 * every run (docs/performance.md), for six accepted forms.
 */
export function parseTokenArgs(args: string[]): TokenArgs | typeof handOver {
  const parsed: TokenArgs = {};
  let positional: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = optionNames.get(equals === -1 ? arg : arg.slice(0, equals));
    if (name === undefined) {
      if (arg.startsWith('-') || positional !== undefined || !arg.trim()) return handOver;
      positional = arg;
      continue;
    }
    const value = equals === -1 ? args[(i += 1)] : arg.slice(equals + 1);
    if (value === undefined || !value.trim() || value.startsWith('-')) return handOver;
    if (parsed[name] !== undefined) return handOver;
    parsed[name] = value;
  }
  if (positional !== undefined) {
    if (parsed.provider !== undefined && parsed.provider !== positional) return handOver;
    parsed.provider = positional;
  }
  return parsed;
}

export async function fastToken(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const parsed = parseTokenArgs(args);
  if (parsed === handOver) return undefined;
  const requested = parsed.provider;
  // Only asked when several providers apply: touching process.stdin creates its stream (a few ms).
  const interactive = () => Boolean(process.stdin.isTTY && process.stderr.isTTY) && !isCi(env);
  let token: string;
  try {
    // A bad LATCHKEY_STORAGE is exit 2 on every command, also where nothing is stored.
    resolveStoragePreference(undefined, env);
    // The cache may hold providers from providers.json: that file is held to its checks all the same.
    checkProviderDefinitionsFile(resolveConfigDir(env));
    // The bundled providers are compiled in; others come from the cache. Without a usable cache, only a
    // bundled provider named on the command line is answered here (others may exist: the full CLI knows).
    const { providers, complete } = readProviders(env);
    if (!complete && (requested === undefined || !providers.has(requested))) return undefined;
    const store = readOnlyStore(env);
    const result = await resolveTokenFrom(
      providers,
      env,
      store,
      requested,
      async (candidates) => {
        if (requested === undefined && candidates.length > 1 && interactive()) throw handOver;
        // Not in the cache: maybe a plugin without a static manifest; the full CLI asks its hook.
        if (requested !== undefined && !providers.has(requested)) throw handOver;
        return chooseProvider(
          { interactive: false },
          requested,
          providers,
          candidates,
          'to print a token for',
        );
      },
      { account: parsed.account, cwd: process.cwd() },
    );
    token = result.token;
  } catch (error) {
    if (error === handOver || !isLatchkeyError(error)) return undefined;
    // The same one-line error the full CLI prints for `auth token`.
    return reportError(error, {
      json: false,
      compact: true,
      warnings: [],
      env,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  }
  return printLine(`${token}\n`);
}
