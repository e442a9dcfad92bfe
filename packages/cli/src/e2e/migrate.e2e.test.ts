/**
 * `latchkey auth migrate` through the built binary: two accounts move from the file backend to the
 * passphrase file. Then the same move is killed with SIGKILL at each of its steps, seen in the config
 * directory as they happen (fs.watch): the lock taken, the copy's temp file, the copy in place, the
 * index's temp file, the index switched, the old file rewritten without the account, and the old file and
 * key deleted. After every kill both accounts still print their keys, and running the migration again
 * finishes it: everything in the passphrase file, nothing left in the file backend.
 */
import type { ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { E2eFile, RUN_TIMEOUT_MS, expectExit, newKey, storedAccounts, type CliSession } from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());
const snapshots: string[] = [];
afterAll(async () => {
  for (const dir of snapshots) await rm(dir, { recursive: true, force: true });
});

const PASSPHRASE = 'migrate e2e passphrase';
const env = {
  LATCHKEY_FILE_PASSPHRASE: PASSPHRASE,
  // The floor: every step derives the key, and this test runs many of them.
  LATCHKEY_FILE_SCRYPT_N: '32768',
};

async function twoAccounts() {
  const keys = { a: newKey(), b: newKey() };
  const emulator = await file.emulator({ keys: [keys.a, keys.b] });
  const session = await file.session();
  file.secret(PASSPHRASE);
  for (const [name, key] of Object.entries(keys)) {
    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--name', name, '--base-url', emulator.url],
      { timeoutMs: RUN_TIMEOUT_MS, input: `${key}\n`, env: { LATCHKEY_STORAGE: 'file' } },
    );
    expectExit(login, 0);
  }
  return { keys, session };
}

/** Both accounts print their keys, wherever they are now. */
async function expectBothReadable(session: CliSession, keys: { a: string; b: string }, when: string) {
  for (const [name, key] of Object.entries(keys)) {
    const run = await session.run(['auth', 'token', '--provider', 'nanogpt', '--account', name], {
      timeoutMs: RUN_TIMEOUT_MS,
      env,
    });
    expect(run.exitCode, `${when}: account ${name}: ${run.stderr}`).toBe(0);
    expect(run.stdout, `${when}: account ${name}`).toBe(`${key}\n`);
  }
}

const migrate = (session: CliSession, extra: string[] = []) =>
  session.spawn(['auth', 'migrate', '--to', 'passphrase', ...extra], { timeoutMs: RUN_TIMEOUT_MS, env });

describe('auth migrate', () => {
  it('moves both accounts to the passphrase file, says so, and leaves nothing in the file backend', async () => {
    const { keys, session } = await twoAccounts();
    const run = await migrate(session, ['--json']).done;
    expectExit(run, 0);
    expect(run.stderr).toContain(
      "✓ Moved nanogpt account 'a' from the file backend to the passphrase file.\n",
    );
    expect(run.stderr).toContain(
      "✓ Moved nanogpt account 'b' from the file backend to the passphrase file.\n",
    );
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 0,
      result: {
        to: 'passphrase',
        accounts: [
          { provider: 'nanogpt', account: 'a', from: 'file', to: 'passphrase', status: 'moved' },
          { provider: 'nanogpt', account: 'b', from: 'file', to: 'passphrase', status: 'moved' },
        ],
      },
    });
    expect((await storedAccounts(session.configDir)).map((r) => r.backend)).toEqual([
      'passphrase',
      'passphrase',
    ]);
    expect((await readdir(session.configDir)).filter((n) => n.startsWith('credentials'))).toEqual([
      'credentials.passphrase.enc',
    ]);
    await expectBothReadable(session, keys, 'after the move');
    // Again: nothing to do.
    const again = await migrate(session).done;
    expectExit(again, 0);
    expect(again.stderr).toContain("✓ nanogpt account 'a' is already in the passphrase file.");
    // Without the passphrase in a pipe: exit 2 naming it, nothing moved back.
    const back = await session.run(['auth', 'migrate', '--to', 'file'], {
      timeoutMs: RUN_TIMEOUT_MS,
      env: { LATCHKEY_FILE_PASSPHRASE: undefined },
    });
    expectExit(back, 2);
    expect(back.stderr).toContain('LATCHKEY_FILE_PASSPHRASE');
    expect((await storedAccounts(session.configDir)).map((r) => r.backend)).toEqual([
      'passphrase',
      'passphrase',
    ]);
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 180_000);

  it('killed with SIGKILL at each step: both accounts stay readable, and a second run finishes the move', async () => {
    const { keys, session } = await twoAccounts();
    const snapshot = await mkdtemp(join(tmpdir(), 'latchkey-migrate-snapshot-'));
    snapshots.push(snapshot);
    const saved = (await readdir(session.configDir)).filter((n) => !n.startsWith('.'));
    for (const name of saved) await copyFile(join(session.configDir, name), join(snapshot, name));
    const restore = async () => {
      for (const name of await readdir(session.configDir))
        await rm(join(session.configDir, name), { force: true });
      for (const name of saved) await copyFile(join(snapshot, name), join(session.configDir, name));
    };

    const steps: Array<{ step: string; at: RegExp }> = [
      { step: 'the lock taken', at: /^\.lock$/ },
      { step: "the copy's temp file", at: /^\.credentials\.passphrase\.enc\..*\.tmp$/ },
      { step: 'the copy in place', at: /^credentials\.passphrase\.enc$/ },
      { step: "the index's temp file", at: /^\.accounts\.json\..*\.tmp$/ },
      { step: 'the index switched', at: /^accounts\.json$/ },
      { step: 'the old file rewritten', at: /^\.credentials\.enc\..*\.tmp$/ },
      { step: 'the old file replaced', at: /^credentials\.enc$/ },
      { step: 'the old key deleted', at: /^credentials\.key$/ },
    ];
    for (const { step, at } of steps) {
      await restore();
      let seen = false;
      let child: ChildProcess | undefined;
      const watcher = watch(session.configDir, (_event, name) => {
        if (!seen && name !== null && at.test(String(name))) {
          seen = true;
          child?.kill('SIGKILL');
        }
      });
      try {
        const spawned = migrate(session);
        child = spawned.child;
        const killed = await spawned.done;
        expect(seen, `${step}: seen`).toBe(true);
        // A loaded machine may let it finish before the signal lands; either way the invariant holds.
        expect(killed.signal === 'SIGKILL' || killed.exitCode === 0, `${step}: ${killed.stderr}`).toBe(true);
      } finally {
        watcher.close();
      }
      await expectBothReadable(session, keys, `killed at ${step}`);
      const finish = await migrate(session).done;
      expectExit(finish, 0);
      expect(
        (await storedAccounts(session.configDir)).map((r) => r.backend),
        step,
      ).toEqual(['passphrase', 'passphrase']);
      expect(
        (await readdir(session.configDir)).filter((n) => n.startsWith('credentials') || n.endsWith('.tmp')),
        step,
      ).toEqual(['credentials.passphrase.enc']);
    }
    await expectBothReadable(session, keys, 'after the last run');
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 600_000);
});
