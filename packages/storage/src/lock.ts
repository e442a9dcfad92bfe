import { nodeCrypto } from './crypto.js';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname as hostName } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '@latchkey/clock';
import { LatchkeyError } from '@latchkey/errors';
import { isProcessAlive, quietly } from './fs-util.js';
import { DOCS, ioError } from './storage-errors.js';

/** Who holds the lock, as written in it (absent fields: a lock written by an older latchkey). */
export interface LockHolder {
  pid?: number;
  hostname?: string;
}

/**
 * How long a waiter waits for one live holder before STORAGE_LOCK_TIMEOUT: longer than any holder keeps the
 * lock on purpose. The longest is a token refresh, which waits for its request's answer (15 s at most, see
 * the CLI's host/refresh.ts) and stores it: a holder is never timed out while the answer may rotate the
 * refresh token, with 15 s to spare for a busy machine.
 */
export const LOCK_WAIT_MS = 30_000;

export interface LockOptions {
  /** Give up when one live holder keeps the lock this long. Default `LOCK_WAIT_MS` (30 s). */
  timeoutMs?: number;
  /** A lock (of another host) whose file hasn't been touched for this long is abandoned. Default 10 s. */
  staleMs?: number;
  /** Called once when the lock is still held by a live process after `noticeAfterMs`. */
  onWait?: (holder: LockHolder) => void;
  /** Default 1 s. */
  noticeAfterMs?: number;
  /** Measures the waits and the staleness (against the lock file's mtime); default `systemClock`. */
  clock?: Clock;
}

/**
 * Runs `fn` holding `<dir>/.lock`, a file created exclusively ('wx') that names its pid and host. A
 * waiter breaks the lock at once when its holder is a dead process on this host; for another host's lock
 * it relies on the mtime, which the holder refreshes every 2 s, so a lock untouched for `staleMs` is
 * abandoned. Waiting uses short randomized sleeps, reports a live holder through `onWait` after
 * `noticeAfterMs`, and ends with STORAGE_LOCK_TIMEOUT.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? LOCK_WAIT_MS;
  const staleMs = options.staleMs ?? 10_000;
  const noticeAt = clock.now() + (options.noticeAfterMs ?? 1_000);
  let noticed = options.onWait === undefined;
  const lockFile = join(dir, '.lock');
  const token = `${process.pid} ${hostName()} ${(await nodeCrypto()).randomBytes(8).toString('hex')}\n`;
  // The deadline is per holder: a queue of writers that each finish in time is progress, not a hang, so a
  // waiter behind many of them on a busy machine waits its turn instead of failing.
  let deadline = clock.now() + timeoutMs;
  let holding: string | undefined;
  let delay = 5;

  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx', 0o600);
      try {
        writeFileSync(fd, token);
      } catch (error) {
        quietly(() => closeSync(fd));
        quietly(() => rmSync(lockFile, { force: true }));
        throw error;
      }
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw ioError(lockFile, 'create the lock file', error);
    }
    const held = await breakIfStale(lockFile, staleMs, clock);
    const holder = held?.holder;
    if (held !== undefined && held.content !== holding) {
      if (holding !== undefined) deadline = clock.now() + timeoutMs;
      holding = held.content;
    }
    if (!noticed && holder !== undefined && clock.now() >= noticeAt) {
      noticed = true;
      options.onWait?.(holder);
    }
    if (clock.now() >= deadline) {
      throw new LatchkeyError({
        code: 'STORAGE_LOCK_TIMEOUT',
        message: `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${lockFile}: another latchkey process is writing credentials.`,
        action: `Try again; if no other latchkey is running, delete '${lockFile}'.`,
        retryable: true,
        docs: DOCS,
      });
    }
    await clock.sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    quietly(() => utimesSync(lockFile, now, now));
  }, 2_000);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await releaseLock(lockFile, token);
  }
}

async function releaseLock(lockFile: string, token: string): Promise<void> {
  // Only remove the lock if it is still ours (it could have been broken as stale and re-taken).
  try {
    const content = readFileSync(lockFile, 'utf8');
    if (content === token) rmSync(lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

/** `<pid> <hostname> <random>`; a lock of an older latchkey has no hostname. */
export function parseLockHolder(content: string): LockHolder {
  const [pid, hostname, random] = content.trim().split(/\s+/);
  const holder: LockHolder = {};
  if (pid !== undefined && /^\d+$/.test(pid)) holder.pid = Number(pid);
  if (hostname !== undefined && random !== undefined) holder.hostname = hostname;
  return holder;
}

/**
 * Breaks the lock when its holder is gone: a dead pid on this host at once, otherwise (another host, or a
 * lock without a host) when untouched for `staleMs`. Returns the holder (and the lock's content, which
 * tells one holding from the next) when the lock stays, undefined when it is gone (retry at once).
 */
/** The lock file's text and modification time, or undefined when there is none (or it went meanwhile). */
async function readLock(lockFile: string): Promise<{ content: string; mtimeMs: number } | undefined> {
  try {
    const content = readFileSync(lockFile, 'utf8');
    return { content, mtimeMs: statSync(lockFile).mtimeMs };
  } catch {
    return undefined;
  }
}

async function breakIfStale(
  lockFile: string,
  staleMs: number,
  clock: Clock,
): Promise<{ holder: LockHolder; content: string } | undefined> {
  const read = await readLock(lockFile);
  if (read === undefined) return undefined; // Released meanwhile: retry at once.
  const { content, mtimeMs } = read;
  const holder = parseLockHolder(content);
  if (!holderGone(holder, mtimeMs, staleMs, clock)) return { holder, content };
  // Move the lock aside under a unique name: of several waiters, only one rename succeeds. Then check
  // that what was moved is the lock judged dead (another waiter may have just re-taken the lock).
  const aside = `${lockFile}.stale.${process.pid}.${(await nodeCrypto()).randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch {
    return undefined;
  }
  try {
    const moved = readFileSync(aside, 'utf8');
    if (moved !== content) {
      // A live lock was moved by mistake: put it back unless someone has taken the lock meanwhile.
      quietly(() => linkSync(aside, lockFile));
    }
  } catch {
    // Gone: nothing to restore.
  } finally {
    quietly(() => rmSync(aside, { force: true }));
  }
  return undefined;
}

/** A dead pid on this host; otherwise (another host, or no host) a lock untouched for `staleMs`. */
function holderGone(holder: LockHolder, mtimeMs: number, staleMs: number, clock: Clock): boolean {
  const local = holder.hostname === hostName() && holder.pid !== undefined;
  return local ? !isProcessAlive(holder.pid!) : clock.now() - mtimeMs > staleMs;
}

/** The config-dir lock as a waiter would judge it, read only (`latchkey doctor`). */
export type LockState =
  { state: 'free' } | { state: 'held' | 'stale'; path: string; holder: LockHolder; mtimeMs: number };

/** Whether `<dir>/.lock` is free, held by a live process, or stale (the next write would break it). */
export async function inspectLock(
  dir: string,
  options: { staleMs?: number; clock?: Clock } = {},
): Promise<LockState> {
  const lockFile = join(dir, '.lock');
  const read = await readLock(lockFile);
  if (read === undefined) return { state: 'free' };
  const { content, mtimeMs } = read;
  const holder = parseLockHolder(content);
  const gone = holderGone(holder, mtimeMs, options.staleMs ?? 10_000, options.clock ?? systemClock);
  return { state: gone ? 'stale' : 'held', path: lockFile, holder, mtimeMs };
}
