// Where the start-up caches (provider manifests, --version/--help answers) live. One file per set-up: the
// answers depend on the config dir (providers added with `auth providers add`, what is stored) and on oclif's
// data dir (user-installed plugins), so two set-ups sharing a cache dir (LATCHKEY_CONFIG_DIR per project, CI
// jobs) neither see each other's providers nor keep overwriting one file. On the fast path: no crypto.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveConfigDir } from '@latchkey/storage';

/** oclif's data dir (user-installed and linked plugins): LATCHKEY_DATA_DIR, else under XDG_DATA_HOME. */
function dataDir(env: NodeJS.ProcessEnv): string {
  return env.LATCHKEY_DATA_DIR || join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'latchkey');
}

/** FNV-1a, 32 bits, as 8 hex digits: a file name, not a secret. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * `<cache dir>/<name>-<set-up key>.json`. bin/run.cjs finds the same cache dir for Node's compile cache
 * (before any bundle loads, so it cannot import this); e2e compile-cache checks the two agree.
 */
export function cacheFile(env: NodeJS.ProcessEnv, name: string): string {
  const base = env.LATCHKEY_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'latchkey');
  const setup = `${resolveConfigDir(env)}\0${dataDir(env)}`;
  return join(base, `${name}-${fnv1a(setup)}.json`);
}
