import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { withLock, type LockHolder } from './lock.js';

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
    const started = Date.now();
    const result = await withLock(dir, async () => 'mine', { staleMs: 60_000, timeoutMs: 5_000 });
    expect(result).toBe('mine');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('tells the waiter once, after the notice delay, who holds a live lock', async () => {
    await fs.writeFile(lock, `${process.pid} ${os.hostname()} 0123abcd\n`);
    const notices: LockHolder[] = [];
    const result = await withLock(dir, async () => 'mine', {
      noticeAfterMs: 50,
      timeoutMs: 5_000,
      onWait: (holder) => {
        notices.push(holder);
        void fs.rm(lock); // the holder finishes
      },
    });
    expect(result).toBe('mine');
    expect(notices).toEqual([{ pid: process.pid, hostname: os.hostname() }]);
  });

  it('a live holder is never broken: STORAGE_LOCK_TIMEOUT, lock untouched', async () => {
    const content = `${process.pid} ${os.hostname()} 0123abcd\n`;
    await fs.writeFile(lock, content);
    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old); // an old mtime does not matter on this host: the pid is alive
    const error = await latchkeyRejection(
      withLock(dir, async () => 'never', { timeoutMs: 300, staleMs: 100 }),
    );
    expect(error.code).toBe('STORAGE_LOCK_TIMEOUT');
    expect(await fs.readFile(lock, 'utf8')).toBe(content);
  });

  it("another host's lock: its pid means nothing here, so only the mtime rule breaks it", async () => {
    const content = `${deadPid()} another-host.example 0123abcd\n`;
    await fs.writeFile(lock, content);
    const fresh = await latchkeyRejection(withLock(dir, async () => 'never', { timeoutMs: 300 }));
    expect(fresh.code).toBe('STORAGE_LOCK_TIMEOUT');
    expect(await fs.readFile(lock, 'utf8')).toBe(content);

    const old = new Date(Date.now() - 60_000);
    await fs.utimes(lock, old, old);
    expect(await withLock(dir, async () => 'mine', { timeoutMs: 5_000 })).toBe('mine');
  });
});
