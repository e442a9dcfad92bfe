// Where the provider cache (third-party providers' manifests) lives, and the one way it is read and
// written. One file per set-up: it depends on the config dir (providers added with `auth providers add`)
// and on oclif's data dir (user-installed plugins), so two set-ups sharing a cache dir
// (LATCHKEY_CONFIG_DIR per project, CI jobs) neither see each other's providers nor keep overwriting one
// file. On the fast path: no crypto.
//
// A cache is not trusted more than its checks: the directory must be the user's and 0700 (the config
// dir's rule), each file the user's and 0600, a regular file, not a symlink, of bounded size. Anything else
// is "no cache" (a LATCHKEY_DEBUG line says why), never an error: an unreadable, looping or foreign cache
// path costs speed only. What a file holds is then checked by its reader as if it came from its source.
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { latchkeyDirs, writeFileAtomic } from '@latchkey/storage';
import { isDebug } from './environment.js';

/** Receives one line saying why a cache was not used (LATCHKEY_DEBUG only). */
export type CacheDebug = (line: string) => void;

/** A cache file larger than this is not read (the real ones are a few KiB). */
export const MAX_CACHE_BYTES = 1024 * 1024;

/**
 * `[debug] ...` on `stderr` (the caller's) with LATCHKEY_DEBUG=1, as the full CLI's debug lines; otherwise
 * nothing.
 */
export function cacheDebug(
  env: NodeJS.ProcessEnv,
  stderr: { write(text: string): unknown },
): CacheDebug | undefined {
  if (!isDebug(env)) return undefined;
  // Paths come from the environment: no terminal control reaches stderr.
  // eslint-disable-next-line no-control-regex
  return (line) => stderr.write(`[debug] ${line.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')}\n`);
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

/** `<cache dir>/<name>-<set-up key>.json`, the directories from @latchkey/storage's latchkeyDirs(). */
export function cacheFile(env: NodeJS.ProcessEnv, name: string): string {
  const dirs = latchkeyDirs(env);
  return join(dirs.cache, `${name}-${fnv1a(`${dirs.config}\0${dirs.data}`)}.json`);
}

const uid = () => process.getuid?.();

/** Why a directory or file may not hold a cache (owner, group/other bits), or undefined when it may. */
function notMine(what: string, stat: { uid: number; mode: number }): string | undefined {
  const me = uid();
  if (me === undefined) return undefined; // Windows: no owners or modes to check
  if (stat.uid !== me) return `${what} belongs to uid ${stat.uid}, not ${me}`;
  if ((stat.mode & 0o077) !== 0)
    return `${what} has mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}, not 0700/0600`;
  return undefined;
}

/** Why the cache dir cannot be used ('missing' when it does not exist), or undefined when it can. */
function dirProblem(dir: string): string | undefined {
  let stat;
  try {
    stat = statSync(dir, { throwIfNoEntry: false });
  } catch (error) {
    return `cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  if (stat === undefined) return 'missing';
  if (!stat.isDirectory()) return 'it is not a directory';
  return notMine('it', stat);
}

/**
 * The text of a cache file when the cache dir and the file pass the checks above, else undefined (with a
 * debug line unless there simply is no cache yet). Never throws.
 */
export function readCacheText(file: string, debug?: CacheDebug): string | undefined {
  const problem = dirProblem(dirname(file));
  if (problem === 'missing') return undefined;
  if (problem !== undefined) {
    debug?.(`cache dir ${dirname(file)} not used: ${problem}`);
    return undefined;
  }
  let fd: number;
  try {
    // No symlink followed; a FIFO planted as the file does not block the open.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') debug?.(`cache ${file} not used: cannot open it (${code ?? String(error)})`);
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    const why = !stat.isFile()
      ? 'it is not a regular file'
      : stat.size > MAX_CACHE_BYTES
        ? `it is larger than ${MAX_CACHE_BYTES} bytes`
        : notMine('it', stat);
    if (why !== undefined) {
      debug?.(`cache ${file} not used: ${why}`);
      return undefined;
    }
    return readFileSync(fd, 'utf8');
  } catch (error) {
    debug?.(
      `cache ${file} not used: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a cache file (0600) in the cache dir, creating the dir 0700 when missing. A dir that fails the
 * checks is not written to (debug line). Never throws: a cache that cannot be written only means the next
 * run is slower.
 */
export async function writeCacheText(file: string, text: string, debug?: CacheDebug): Promise<void> {
  const dir = dirname(file);
  try {
    if (dirProblem(dir) === 'missing') mkdirSync(dir, { recursive: true, mode: 0o700 });
    const problem = dirProblem(dir);
    if (problem !== undefined) {
      debug?.(`cache dir ${dir} not written to: ${problem}`);
      return;
    }
    await writeFileAtomic(file, text);
  } catch (error) {
    debug?.(`cache ${file} not written: ${(error as { message?: string }).message ?? String(error)}`);
  }
}
