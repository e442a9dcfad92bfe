import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, timeBound } from '@latchkey/conformance/tools';
import { latchkeyRejection } from '@latchkey/testkit';
import { inspectLock, LOCK_WAIT_MS, withLock, type LockHolder } from './lock.js';

let dir: string;
let lock: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-lock-'));
  lock = path.join(dir, '.lock');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

describe('the config-dir lock', () => {
  it('names its holder: pid and hostname', async () => {
    const content = await withLock(dir, () => fs.readFile(lock, 'utf8'));
    expect(content).toMatch(
      new RegExp(`^${process.pid} ${os.hostname().replace(/\./g, '\\.')} [0-9a-f]+\\n$`),
    );
  });

  it('takes over at once a lock whose holder on this host is dead, however fresh its mtime', async () => {
    await fs.writeFile(lock, `${deadPid()} ${os.hostname()} 0123abcd\n`);
    const clock = createFakeClock(Date.now());
    const started = clock.now();
    const result = await withLock(dir, async () => 'mine', { clock, staleMs: 60_000, timeoutMs: 5_000 });
    expect(result).toBe('mine');
    // Taken over at once: one short retry wait on the clock (a live holder would be waited for, to 5 s).
    expect(clock.sleeps.length).toBeLessThanOrEqual(1);
    expect(clock.now() - started).toBeLessThan(100);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('tells the waiter once, after the notice delay, who holds a live lock', async () => {
    await fs.writeFile(lock, `${process.pid} ${os.hostname()} 0123abcd\n`);
    const clock = createFakeClock(Date.now());
    const start = clock.now();
    const notices: Array<LockHolder & { afterMs: number }> = [];
    const result = await withLock(dir, async () => 'mine', {
      clock,
      onWait: (holder) => {
        notices.push({ ...holder, afterMs: clock.now() - start });
        rmSync(lock); // the holder finishes (synchronously: the fake clock's waits take no real time)
      },
    });
    expect(result).toBe('mine');
    expect(notices).toEqual([{ pid: process.pid, hostname: os.hostname(), afterMs: expect.any(Number) }]);
    expect(notices[0]!.afterMs).toBeGreaterThanOrEqual(1_000); // the default notice delay, on the clock
  });

  it('a live holder is never broken: STORAGE_LOCK_TIMEOUT after 30 s (LOCK_WAIT_MS) on the clock, lock untouched', async () => {
    const content = `${process.pid} ${os.hostname()} 0123abcd\n`;
    await fs.writeFile(lock, content);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old); // an old mtime does not matter on this host: the pid is alive
    const clock = createFakeClock(Date.now());
    const start = clock.now();
    const realStart = Date.now();
    const error = await latchkeyRejection(withLock(dir, async () => 'never', { clock, staleMs: 100 }));
    expect(error.code).toBe('STORAGE_LOCK_TIMEOUT');
    expect(error.message).toMatch(/^Timed out after 30 s waiting for /);
    expect(await fs.readFile(lock, 'utf8')).toBe(content);
    expect(clock.now() - start).toBeGreaterThanOrEqual(LOCK_WAIT_MS);
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(200); // short randomized waits, bounded
    expect(Date.now() - realStart).toBeLessThan(timeBound(10_000)); // the 30 s were the fake clock's, not real ones
  });

  it('waits its turn behind a queue of live holders: the 30 s are per holder, not in all', async () => {
    await fs.writeFile(lock, `${process.pid} ${os.hostname()} aaaa0001\n`);
    const fake = createFakeClock(Date.now());
    const start = fake.now();
    let handedOver = false;
    // The first holder keeps the lock 25 s, then another live writer takes it for 25 s more and releases it:
    // the waiter's own sleeps move the time on, so the story follows the clock exactly.
    const clock = {
      now: () => fake.now(),
      async sleep(ms: number, signal?: AbortSignal) {
        await fake.sleep(ms, signal);
        const elapsed = fake.now() - start;
        if (!handedOver && elapsed >= 25_000) {
          await fs.writeFile(lock, `${process.pid} ${os.hostname()} bbbb0002\n`);
          handedOver = true;
        } else if (handedOver && elapsed >= 50_000) {
          await fs.rm(lock, { force: true });
        }
      },
    };
    const waitedMs = await withLock(dir, async () => clock.now() - start, { clock, staleMs: 60_000 });
    expect(handedOver).toBe(true);
    expect(waitedMs).toBeGreaterThanOrEqual(50_000); // past 30 s in all, and no STORAGE_LOCK_TIMEOUT
  });

  it("another host's lock: its pid means nothing here, so only the mtime rule breaks it", async () => {
    const content = `${deadPid()} another-host.example 0123abcd\n`;
    await fs.writeFile(lock, content);
    const clock = createFakeClock(Date.now());
    const fresh = await latchkeyRejection(withLock(dir, async () => 'never', { clock, timeoutMs: 5_000 }));
    expect(fresh.code).toBe('STORAGE_LOCK_TIMEOUT');
    expect(await fs.readFile(lock, 'utf8')).toBe(content);

    // Nobody refreshes its mtime: once the clock is 10 s (staleMs) past it, the lock is abandoned.
    const before = clock.now();
    expect(await withLock(dir, async () => 'mine', { clock, timeoutMs: 60_000 })).toBe('mine');
    expect(clock.now() - before).toBeGreaterThan(4_000);
    expect(clock.now() - before).toBeLessThan(60_000);
  });
});

describe('inspectLock (read only, for latchkey doctor)', () => {
  it('is free without a lock file', async () => {
    expect(await inspectLock(dir)).toEqual({ state: 'free' });
  });

  it("calls a live holder's lock held and a dead local holder's lock stale, and touches neither", async () => {
    await fs.writeFile(lock, `${process.pid} ${os.hostname()} 0123abcd\n`);
    expect(await inspectLock(dir)).toMatchObject({
      state: 'held',
      path: lock,
      holder: { pid: process.pid, hostname: os.hostname() },
    });
    const dead = deadPid();
    await fs.writeFile(lock, `${dead} ${os.hostname()} 0123abcd\n`);
    expect(await inspectLock(dir)).toMatchObject({ state: 'stale', holder: { pid: dead } });
    expect(await fs.readFile(lock, 'utf8')).toBe(`${dead} ${os.hostname()} 0123abcd\n`);
  });

  it("judges another host's lock by its age", async () => {
    await fs.writeFile(lock, '4242 elsewhere.example 0123abcd\n');
    const { mtimeMs } = await fs.stat(lock);
    const clock = createFakeClock(mtimeMs + 5_000);
    expect((await inspectLock(dir, { clock })).state).toBe('held');
    clock.advance(6_000);
    expect((await inspectLock(dir, { clock })).state).toBe('stale');
  });
});
