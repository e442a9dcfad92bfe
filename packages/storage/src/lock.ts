import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { LatchkeyError } from '@latchkey/errors';
import { DOCS, ioError } from './storage-errors.js';

export interface LockOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number;
  /** A lock whose file hasn't been touched for this long is abandoned (its process died). Default 10 s. */
  staleMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` holding `<dir>/.lock`, a file created exclusively ('wx'). While held, the lock's mtime is
 * refreshed every 2 s, so a lock untouched for `staleMs` belongs to a dead process and is broken. Waiting
 * uses short randomized sleeps and ends with STORAGE_LOCK_TIMEOUT.
 */
export async function withLock<T>(dir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const staleMs = options.staleMs ?? 10_000;
  const lockFile = path.join(dir, '.lock');
  const token = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;

  for (;;) {
    try {
      const handle = await fs.open(lockFile, 'wx', 0o600);
      try {
        await handle.writeFile(token);
      } catch (error) {
        await handle.close().catch(() => undefined);
        await fs.rm(lockFile, { force: true }).catch(() => undefined);
        throw error;
      }
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw ioError(lockFile, 'create the lock file', error);
    }
    await breakIfStale(lockFile, staleMs);
    if (Date.now() >= deadline) {
      throw new LatchkeyError({
        code: 'STORAGE_LOCK_TIMEOUT',
        message: `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${lockFile}: another latchkey process is writing credentials.`,
        action: `Try again; if no other latchkey is running, delete '${lockFile}'.`,
        retryable: true,
        docs: DOCS,
      });
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 100);
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(lockFile, now, now).catch(() => undefined);
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
    const content = await fs.readFile(lockFile, 'utf8');
    if (content === token) await fs.rm(lockFile, { force: true });
  } catch {
    // Already gone.
  }
}

async function breakIfStale(lockFile: string, staleMs: number): Promise<void> {
  let mtimeMs: number;
  try {
    mtimeMs = (await fs.stat(lockFile)).mtimeMs;
  } catch {
    return; // Released meanwhile: retry at once.
  }
  if (Date.now() - mtimeMs <= staleMs) return;
  // Move the stale lock aside under a unique name: of several waiters, only one rename succeeds. Then
  // check that what was moved really was stale (another waiter may have just re-taken the lock).
  const aside = `${lockFile}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lockFile, aside);
  } catch {
    return;
  }
  try {
    const moved = await fs.stat(aside);
    if (Date.now() - moved.mtimeMs <= staleMs) {
      // A fresh lock was moved by mistake: put it back unless someone has taken the lock meanwhile.
      await fs.link(aside, lockFile).catch(() => undefined);
    }
  } finally {
    await fs.rm(aside, { force: true }).catch(() => undefined);
  }
}
