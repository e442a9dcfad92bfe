// Storage's file operations are node:fs's synchronous calls, inside async functions: a CLI process does one
// thing at a time, and each promise-based call is a round trip through libuv's thread pool (reading a
// stored credential takes a dozen in a row, a few ms); node:fs/promises would also cost every run about
// 1 MiB of memory to load. Measured in docs/performance.md.
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { nodeCrypto } from './crypto.js';
import { insecureError, ioError } from './storage-errors.js';

const checkModes = process.platform !== 'win32';

/** Creates the config directory (0700) if it doesn't exist yet; refuses one that others can write to. */
export async function ensureConfigDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw ioError(dir, 'create the directory', error);
  }
  await checkDirSafe(dir);
}

/** The directory that holds credentials must not be writable (or readable) by others. */
export async function checkDirSafe(dir: string): Promise<void> {
  if (!checkModes) return;
  let stat;
  try {
    stat = statSync(dir);
  } catch (error) {
    throw ioError(dir, 'read', error);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid && uid !== 0) throw insecureError(dir, stat.mode, true, stat.uid);
  if ((stat.mode & 0o077) !== 0) throw insecureError(dir, stat.mode, true);
}

/**
 * The config directory's state before anything in it is read: 'missing' (nothing stored yet) or 'ok'.
 * Throws STORAGE_INSECURE when it is not ours or has any group/other permission bit.
 */
export async function checkConfigDir(dir: string): Promise<'missing' | 'ok'> {
  try {
    lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw ioError(dir, 'read', error);
  }
  await checkDirSafe(dir);
  return 'ok';
}

/** STORAGE_INSECURE when a file latchkey reads is not ours or has any group/other permission bit. */
export function checkOwnFileStat(file: string, stat: { uid: number; mode: number }): void {
  if (!checkModes) return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid && uid !== 0)
    throw insecureError(file, stat.mode, false, stat.uid);
  if ((stat.mode & 0o077) !== 0) throw insecureError(file, stat.mode, false);
}

/** Reads a file latchkey owns; undefined when it doesn't exist. With `secret`, the mode must be 0600 or tighter. */
export async function readOwnFile(file: string, secret: boolean): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(file, 'read', error);
  }
  try {
    if (secret && checkModes) checkOwnFileStat(file, fstatSync(fd));
    return readFileSync(fd);
  } catch (error) {
    if ((error as { name?: string }).name === 'LatchkeyError') throw error;
    throw ioError(file, 'read', error);
  } finally {
    closeSync(fd);
  }
}

/** Test seam: lets a test make the final rename fail, to show the old file survives. */
export const fsHooks = { rename: (from: string, to: string): void => renameSync(from, to) };

/**
 * Replaces `file` atomically: writes a temp file (mode 0600) in the same directory, fsyncs it, renames
 * it over the target and fsyncs the directory. A reader sees the old content or the new, never a mix;
 * a crash leaves the old file intact (and at worst a stray `*.tmp`).
 */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = dirname(file);
  const temp = join(
    dir,
    `.${basename(file)}.${process.pid}.${(await nodeCrypto()).randomBytes(6).toString('hex')}.tmp`,
  );
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    writeFileSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    fsHooks.rename(temp, file);
  } catch (error) {
    if (fd !== undefined) quietly(() => closeSync(fd!));
    quietly(() => rmSync(temp, { force: true }));
    throw ioError(file, 'write', error);
  }
  syncDir(dir);
}

/** `.<name>.<pid>.<hex>.tmp`, as written by `writeFileAtomic`. */
const TEMP_FILE = /^\.(.+)\.(\d+)\.([0-9a-f]+)\.tmp$/;
/** A temp file older than this is left over even if its pid is alive (pids are reused). */
export const STRAY_TEMP_AGE_MS = 60_000;

/** False only when no process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Deletes temp files a killed write left behind (they may hold a whole encrypted document, or the key):
 * those whose writer is dead or that are older than a minute; a live writer's fresh temp file is left
 * alone, unless `all`. Every write to the config directory holds its lock while its temp file exists, so
 * under the lock every temp file is a leftover: logout passes `all`, so that nothing which could decrypt a
 * removed secret stays behind. Returns the names removed. Best effort: a file that can't be removed stays
 * for the next try.
 */
export async function removeStrayTempFiles(
  dir: string,
  now: number = Date.now(),
  options: { all?: boolean } = {},
): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_FILE.exec(name);
    if (!match) continue;
    const file = join(dir, name);
    let stale = options.all === true || !isProcessAlive(Number(match[2]));
    if (!stale) {
      try {
        stale = now - lstatSync(file).mtimeMs > STRAY_TEMP_AGE_MS;
      } catch {
        continue;
      }
    }
    if (!stale) continue;
    try {
      rmSync(file, { force: true });
      removed.push(name);
    } catch {
      // Left for the next write or logout.
    }
  }
  return removed;
}

function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems can't fsync a directory; the rename itself is still atomic.
  }
}

/** Runs a clean-up step whose failure changes nothing (the error being reported is the first one). */
export function quietly(step: () => void): void {
  try {
    step();
  } catch {
    // Best effort.
  }
}
