/**
 * `latchkey --version` (`-v`), `latchkey` / `--help` / `-h` (the root help page), `auth providers` and
 * `auth status` with nothing stored, without oclif: the bin script tries this first. Each answers only its
 * plain form, from what the full CLI remembered (host/info-cache.ts) while every file that could change it
 * is unchanged, printing the same bytes the full CLI prints; anything else returns undefined and the full
 * CLI runs (src/e2e/fast-info.e2e.test.ts compares the two).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isatty } from 'node:tty';
import { checkProviderDefinitionsFile, resolveConfigDir, resolveStoragePreference } from '@latchkey/storage';
import { helpKey, readInfoCache, type InfoCache } from './host/info-cache.js';
import { describeProviders } from './host/provider-table.js';
import { forTerminal } from './host/environment.js';
import { colours, colourWanted, paintMarks } from './host/colour.js';
import { notSignedIn } from './host/provider-facts.js';
import { reportError } from './render-error.js';
import { sanitizeTerminalText, sanitizeLine } from '@latchkey/errors';
import { printLine } from './fast-output.js';

type Form = 'version' | 'help' | 'providers' | 'status';

/** The plain forms this answers; oclif parses everything else. */
export function infoForm(args: readonly string[]): Form | undefined {
  if (args.length === 0) return 'help';
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) return 'version';
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) return 'help';
  if (args.length === 2 && args[0] === 'auth' && args[1] === 'providers') return 'providers';
  if (args.length === 2 && args[0] === 'auth' && args[1] === 'status') return 'status';
  return undefined;
}

export async function fastInfo(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  const form = infoForm(args);
  if (!form) return undefined;
  const configDir = resolveConfigDir(env);
  const cache = readInfoCache(env, configDir);
  if (!cache) return undefined;
  try {
    return answer(form, cache, env, configDir);
  } catch {
    return undefined; // a cache of another shape: the full CLI answers (and rewrites it)
  }
}

function answer(form: Form, cache: InfoCache, env: NodeJS.ProcessEnv, configDir: string): number | undefined {
  switch (form) {
    case 'version':
      // oclif's line names the Node version: a cache written under another Node is not used.
      if (typeof cache.userAgent !== 'string' || !cache.userAgent.endsWith(` node-${process.version}`))
        return undefined;
      return printLine(`${sanitizeLine(cache.userAgent)}\n`);
    case 'help': {
      const tty = isatty(1);
      const page =
        cache.help?.[helpKey(env, { isTTY: tty, columns: tty ? process.stdout.columns : undefined })];
      return typeof page !== 'string' ? undefined : printLine(keepingColour(page));
    }
    case 'providers':
      return providers(cache, env);
    case 'status':
      return nothingStored(cache.providers, env, configDir) ? notSignedInAnywhere(env) : undefined;
  }
}

// eslint-disable-next-line no-control-regex
const sgr = /\x1b\[[0-9;]*m/g;

/**
 * A cached help page through the terminal sanitizer: everything but colour (SGR, which oclif's help uses
 * when colour is on and which cannot move the cursor, set a title or reach the clipboard) is removed.
 */
export function keepingColour(page: string): string {
  const colours = page.match(sgr) ?? [];
  return page
    .split(sgr)
    .map((part, i) => sanitizeTerminalText(part) + (colours[i] ?? ''))
    .join('');
}

function providers(cache: InfoCache, env: NodeJS.ProcessEnv): number | undefined {
  // A bad LATCHKEY_STORAGE (exit 2) or a providers.json others may change (exit 1): the full CLI says so.
  try {
    resolveStoragePreference(undefined, env);
    checkProviderDefinitionsFile(resolveConfigDir(env));
  } catch {
    return undefined;
  }
  const listing = cache.providers;
  // Conflicts are also warnings on stderr in the full CLI; broken plugins are never cached.
  if (!listing || listing.conflicts.length > 0 || listing.broken.length > 0) return undefined;
  // What runtime.out does with it.
  return printLine(
    paintMarks(forTerminal(describeProviders(listing)), colours(colourWanted(env, isatty(1)))),
  );
}

/**
 * True when `auth status` has nothing to show: no provider's variable set, no `LATCHKEY_<ID>_ACCOUNT`, no
 * account index and no encrypted file (so no orphan either), the keychain not chosen, no debug output
 * asked for, and the listing the cache holds is clean (a conflict is a warning the full CLI prints).
 */
export function nothingStored(
  listing: InfoCache['providers'],
  env: NodeJS.ProcessEnv,
  configDir: string,
): boolean {
  if (!listing || listing.conflicts.length > 0 || listing.broken.length > 0) return false;
  const set = (name: string) => Boolean(env[name]?.trim());
  if (listing.providers.some((p) => p.envVars.some(set))) return false;
  if (Object.keys(env).some((name) => /^LATCHKEY_.+_ACCOUNT$/.test(name) && set(name))) return false;
  if (!['', 'auto', 'file'].includes(env.LATCHKEY_STORAGE?.trim() ?? '')) return false;
  if (env.LATCHKEY_DEBUG) return false;
  return ['accounts.json', 'credentials.enc'].every(
    (file) => statSync(join(configDir, file), { throwIfNoEntry: false }) === undefined,
  );
}

/** The full CLI's answer when nothing is stored: "Not signed in" on stderr, exit 4. */
function notSignedInAnywhere(env: NodeJS.ProcessEnv): number {
  return reportError(notSignedIn('any provider', '<id>', []), {
    json: false,
    compact: false,
    warnings: [],
    env,
    stdout: process.stdout,
    stderr: process.stderr,
    red: colours(colourWanted(env, isatty(2))).red,
  });
}
