/**
 * The passphrase file (`LATCHKEY_STORAGE=passphrase`) through the built binary: a login and `auth token`
 * with LATCHKEY_FILE_PASSPHRASE, no key on disk; without the variable in a pipe exit 2 naming it; a wrong
 * passphrase exit 4 with the file byte for byte as it was; `auth passphrase` under 20 concurrent readers
 * (each sees the old file or the new one, never anything else); and `kill -9` during the change (the file
 * is the old one or the new one, each readable with its own passphrase, and the next change goes through).
 */
import type { ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectSecretNotOnDisk,
  newKey,
  storedAccounts,
  type CliRun,
  type CliSession,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const OLD = 'old passphrase for the e2e test';
const NEW = 'new passphrase for the e2e test';
/** The floor (2^15): the concurrency tests start many processes, each deriving the key once. */
const FLOOR = String(2 ** 15);
const passphraseFile = (session: CliSession) => join(session.configDir, 'credentials.passphrase.enc');

function env(passphrase: string | undefined, extra: Record<string, string | undefined> = {}) {
  return {
    LATCHKEY_STORAGE: 'passphrase',
    LATCHKEY_FILE_PASSPHRASE: passphrase,
    LATCHKEY_FILE_NEW_PASSPHRASE: undefined,
    ...extra,
  };
}

async function loggedIn(scryptN?: string) {
  const key = newKey();
  const emulator = await file.emulator({ keys: [key] });
  const session = await file.session();
  file.secret(OLD);
  file.secret(NEW);
  const login = await session.run(
    ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
    {
      timeoutMs: RUN_TIMEOUT_MS,
      input: `${key}\n`,
      env: env(OLD, scryptN === undefined ? {} : { LATCHKEY_FILE_SCRYPT_N: scryptN }),
    },
  );
  return { key, session, login, emulator };
}

const token = (session: CliSession, passphrase: string | undefined) =>
  session.run(['auth', 'token', '--provider', 'nanogpt'], {
    timeoutMs: RUN_TIMEOUT_MS,
    env: env(passphrase),
  });

/** What a reader may see while the passphrase changes: the token (old file) or "wrong passphrase" (new file). */
function expectOldOrNew(run: CliRun, key: string): 'old' | 'new' {
  expect(run.signal).toBeNull();
  if (run.exitCode === 0) {
    expect(run.stdout).toBe(`${key}\n`);
    return 'old';
  }
  expect(run.exitCode, run.stderr).toBe(4);
  expect(run.stdout).toBe('');
  expect(run.stderr).toContain('LATCHKEY_FILE_PASSPHRASE does not open');
  return 'new';
}

describe('the passphrase file', () => {
  it('login and auth token with LATCHKEY_FILE_PASSPHRASE (default cost): no key file, the secret nowhere in clear', async () => {
    const { key, session, login } = await loggedIn();
    expectExit(login, 0);
    expect(login.stderr).toContain(
      `  Stored in the file in ${session.configDir} encrypted with a key from your passphrase.\n`,
    );
    expect(login.stderr).not.toContain('Whoever can read that directory');
    expect((await readdir(session.configDir)).sort()).toEqual([
      'accounts.json',
      'credentials.passphrase.enc',
    ]);
    const doc = JSON.parse(await readFile(passphraseFile(session), 'utf8'));
    expect(doc.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 17, r: 8, p: 1 });
    expect((await storedAccounts(session.configDir))[0]?.backend).toBe('passphrase');
    await expectSecretNotOnDisk(session.configDir, key);
    await expectSecretNotOnDisk(session.configDir, OLD);

    const read = await token(session, OLD);
    expectExit(read, 0);
    expect(read.stdout).toBe(`${key}\n`);
    // The account says where it is, whatever LATCHKEY_STORAGE says now.
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], {
      timeoutMs: RUN_TIMEOUT_MS,
      env: env(OLD, { LATCHKEY_STORAGE: 'file' }),
    });
    expectExit(status, 0);
    expect(status.stdout).toContain(
      `Source:     stored in the file in ${session.configDir} encrypted with a key from your passphrase\n`,
    );
    // doctor: the backend in use and its health.
    const doctor = await session.run(['doctor'], { timeoutMs: RUN_TIMEOUT_MS, env: env(OLD) });
    expect(doctor.stdout).toContain(
      `✓ Storage: the passphrase file ${passphraseFile(session)} (LATCHKEY_STORAGE=passphrase, scrypt N=131072, r=8, p=1), its key from LATCHKEY_FILE_PASSPHRASE, which opens it.\n`,
    );
    expect(doctor.stdout).toContain('✓ Stored: 1 account in the passphrase file.\n');
    const wrongDoctor = await session.run(['doctor'], {
      timeoutMs: RUN_TIMEOUT_MS,
      env: env('not it at all, no'),
    });
    expectExit(wrongDoctor, 1);
    expect(wrongDoctor.stdout).toContain(
      '✗ Storage: LATCHKEY_FILE_PASSPHRASE does not open the passphrase file',
    );
    assertNoSecretLeaks(file.runs(), [...file.secrets(), 'not it at all, no']);
  });

  it('without LATCHKEY_FILE_PASSPHRASE in a pipe: exit 2 naming the variable and the terminal; a wrong one: exit 4, nothing changed', async () => {
    const { key, session, login, emulator } = await loggedIn(FLOOR);
    expectExit(login, 0);
    const before = await readFile(passphraseFile(session));

    const none = await token(session, undefined);
    expectExit(none, 2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('LATCHKEY_FILE_PASSPHRASE');
    expect(none.stderr).toContain('in a terminal');

    const wrong = await token(session, 'not the passphrase at all');
    expectExit(wrong, 4);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain(
      `LATCHKEY_FILE_PASSPHRASE does not open ${passphraseFile(session)}; nothing was changed.`,
    );
    // A login with the wrong passphrase stores nothing and changes nothing.
    const relogin = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--name', 'two', '--base-url', emulator.url],
      {
        timeoutMs: RUN_TIMEOUT_MS,
        input: `${key}\n`,
        env: env('not the passphrase at all'),
      },
    );
    expectExit(relogin, 4);
    expect(relogin.stderr).toContain('does not open');
    const change = await session.run(['auth', 'passphrase'], {
      timeoutMs: RUN_TIMEOUT_MS,
      env: env('not the passphrase at all', { LATCHKEY_FILE_NEW_PASSPHRASE: NEW }),
    });
    expectExit(change, 4);
    expect(await readFile(passphraseFile(session))).toEqual(before);
    expect((await storedAccounts(session.configDir)).map((r) => r.account)).toHaveLength(1);
    expect((await token(session, OLD)).stdout).toBe(`${key}\n`);
    assertNoSecretLeaks(file.runs(), [...file.secrets(), 'not the passphrase at all']);
  });

  it('auth passphrase under 20 concurrent readers: each reads the old file or the new one; then only the new passphrase opens it', async () => {
    const { key, session, login } = await loggedIn(FLOOR);
    expectExit(login, 0);
    let changed = false;
    const change = session
      .run(['auth', 'passphrase', '--json'], {
        // It shares two cores with 20 readers by design: a longer bound than one run's.
        timeoutMs: 3 * RUN_TIMEOUT_MS,
        env: env(OLD, { LATCHKEY_FILE_NEW_PASSPHRASE: NEW }),
      })
      .finally(() => (changed = true));
    // 20 readers with the old passphrase, started with the change: each reads up to 3 times while it runs,
    // then (after it is over) once more.
    const readers = Array.from({ length: 20 }, async () => {
      const seen: Array<'old' | 'new'> = [];
      for (let round = 0; round < 3 && !changed; round++) {
        seen.push(expectOldOrNew(await token(session, OLD), key));
      }
      await change;
      seen.push(expectOldOrNew(await token(session, OLD), key));
      return seen;
    });
    const [result, ...seen] = await Promise.all([change, ...readers]);
    expectExit(result!, 0);
    expect(JSON.parse(result!.stdout)).toMatchObject({
      status: 0,
      result: { entries: 1, kdf: { N: 2 ** 15 } },
    });
    for (const reader of seen as Array<Array<'old' | 'new'>>) {
      // Once a reader has seen the new file it never sees the old one again, and its last read is the new one.
      expect(reader.at(-1)).toBe('new');
      expect(reader.slice(reader.indexOf('new')).every((s) => s === 'new')).toBe(true);
    }
    const after = await Promise.all(Array.from({ length: 20 }, () => token(session, NEW)));
    for (const run of after) {
      expectExit(run, 0);
      expect(run.stdout).toBe(`${key}\n`);
    }
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 300_000);

  it('kill -9 during auth passphrase: the file is the old or the new one, readable with its own passphrase; the next change goes through', async () => {
    const { key, session, login } = await loggedIn(FLOOR);
    expectExit(login, 0);
    let current = OLD;
    // Killed at each step, seen in the config directory as it happens (inotify, through fs.watch): having
    // taken the lock (deriving the keys), with the new file written to its temp file, and right after the
    // rename. The first leaves the old file, the last the new one; the middle one either.
    const steps = [
      { step: 'lock', at: (name: string) => name === '.lock', expect: 'old' },
      {
        step: 'temp file',
        at: (name: string) => /^\.credentials\.passphrase\.enc\..*\.tmp$/.test(name),
        expect: undefined,
      },
      { step: 'renamed', at: (name: string) => name === 'credentials.passphrase.enc', expect: 'new' },
    ] as const;
    for (const { step, at, expect: wanted } of steps) {
      const next = current === OLD ? NEW : OLD;
      let killedAt = false;
      let child: ChildProcess | undefined;
      const watcher = watch(session.configDir, (_event, name) => {
        if (!killedAt && name !== null && at(String(name))) {
          killedAt = true;
          child?.kill('SIGKILL');
        }
      });
      try {
        const spawned = session.spawn(['auth', 'passphrase'], {
          timeoutMs: RUN_TIMEOUT_MS,
          env: env(current, { LATCHKEY_FILE_NEW_PASSPHRASE: next }),
        });
        child = spawned.child;
        const killed = await spawned.done;
        expect(killedAt, `${step}: the step was seen`).toBe(true);
        // Past the lock step a loaded machine may let it finish before the signal lands: that is the new file.
        const finished = step !== 'lock' && killed.exitCode === 0;
        expect(finished || killed.signal === 'SIGKILL', `${step}: ${killed.stderr}`).toBe(true);
      } finally {
        watcher.close();
      }
      const withCurrent = await token(session, current);
      const withNext = await token(session, next);
      // Exactly one of the two passphrases opens the file, and it gives the token; the other is exit 4.
      const opened = [withCurrent, withNext].filter((r) => r.exitCode === 0);
      expect(opened, `${step}: ${withCurrent.stderr}\n${withNext.stderr}`).toHaveLength(1);
      expect(opened[0]!.stdout).toBe(`${key}\n`);
      for (const r of [withCurrent, withNext].filter((r) => r.exitCode !== 0)) expectExit(r, 4);
      const state = withNext.exitCode === 0 ? 'new' : 'old';
      if (wanted !== undefined) expect(state, step).toBe(wanted);
      if (state === 'new') current = next;
    }
    // The killed process's lock (a dead pid) does not stop the next change; no temp file outlives it.
    const next = current === OLD ? NEW : OLD;
    const last = await session.run(['auth', 'passphrase'], {
      timeoutMs: RUN_TIMEOUT_MS,
      env: env(current, { LATCHKEY_FILE_NEW_PASSPHRASE: next }),
    });
    expectExit(last, 0);
    expect((await token(session, next)).stdout).toBe(`${key}\n`);
    expect((await readdir(session.configDir)).filter((n) => n.endsWith('.tmp') || n === '.lock')).toEqual([]);
    assertNoSecretLeaks(file.runs(), file.secrets());
  }, 300_000);
});
