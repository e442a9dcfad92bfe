/**
 * Several `latchkey auth login` processes writing to the same config dir at the same moment: the index
 * (`accounts.json`) and the encrypted secrets file are read-modify-written under a lock, so no login may
 * be lost, and every stored secret must still decrypt and verify.
 */
import { existsSync, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectSecretNotOnDisk,
  newKey,
  readIndex,
  requestsTo,
  type CliSession,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());

const opts = { timeoutMs: RUN_TIMEOUT_MS };
const masked = (key: string) => `sk-nano-...${key.slice(-4)}`;

/** Starts every login at once (all processes spawned before any is awaited) and waits for all of them. */
async function loginAllAtOnce(session: CliSession, baseUrl: string, keys: string[]) {
  const spawned = keys.map((key) =>
    session.spawn(['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', baseUrl], {
      ...opts,
      input: `${key}\n`,
    }),
  );
  return Promise.all(spawned.map((s) => s.done));
}

/**
 * The default is the provider's first stored account (a later login never takes it over silently), and
 * `auth token` prints exactly its key.
 */
async function expectFirstSavedIsActive(session: CliSession, keys: string[]): Promise<void> {
  const index = (await readIndex(session.configDir))!;
  const first = Math.min(...index.accounts.map((a) => Date.parse(a.createdAt)));
  const earliest = index.accounts.filter((a) => Date.parse(a.createdAt) === first).map((a) => a.account);
  expect(earliest).toContain(index.active.nanogpt);
  const activeKey = keys.find((k) => masked(k) === index.active.nanogpt);
  expect(activeKey, 'the active account is one of the stored keys').toBeDefined();
  const token = await session.run(['auth', 'token'], opts);
  expectExit(token, 0);
  expect(token.stdout).toBe(`${activeKey}\n`);
}

describe('concurrent logins into one config dir', () => {
  it('two --with-token logins started together: both exit 0, both accounts stored', async () => {
    const keys = [newKey(), newKey()];
    const emulator = await file.emulator({ keys });
    const session = await file.session();

    const runs = await loginAllAtOnce(session, emulator.url, keys);
    for (const run of runs) expectExit(run, 0);

    const index = (await readIndex(session.configDir))!;
    expect(index.accounts.map((a) => a.account).sort()).toEqual(keys.map(masked).sort());
    expect(keys.map(masked)).toContain(index.active.nanogpt);
    await expectFirstSavedIsActive(session, keys);
    for (const key of keys) await expectSecretNotOnDisk(session.configDir, key);
  });

  it('4 processes x 3 rounds: no lost update in accounts.json or in the encrypted secrets', async () => {
    const rounds = 3;
    const perRound = 4;
    // Every round's keys are pre-provisioned (the emulator accepts only keys it knows).
    const byRound = Array.from({ length: rounds }, () => Array.from({ length: perRound }, () => newKey()));
    const emulator = await file.emulator({ keys: byRound.flat() });
    const session = await file.session();
    const all: string[] = [];

    for (const [i, keys] of byRound.entries()) {
      const round = i + 1;
      all.push(...keys);
      const runs = await loginAllAtOnce(session, emulator.url, keys);
      for (const run of runs) expectExit(run, 0);

      const index = (await readIndex(session.configDir))!;
      expect(index.accounts.map((a) => a.account).sort(), `after round ${round}`).toEqual(
        all.map(masked).sort(),
      );
      expect(
        byRound[0]!.map(masked),
        `round ${round}: the default is still one from the first round`,
      ).toContain(index.active.nanogpt);
      await expectFirstSavedIsActive(session, all);
    }

    // Every secret survived in the encrypted file: status decrypts each one and the server accepts it.
    const before = requestsTo(emulator, 'models').length;
    const status = await session.run(['auth', 'status', '--json'], opts);
    expectExit(status, 0);
    const { credentials } = (
      JSON.parse(status.stdout) as { result: { credentials: Array<{ account: string; validity: string }> } }
    ).result;
    expect(credentials.map((c) => c.account).sort()).toEqual(all.map(masked).sort());
    for (const c of credentials) expect(c.validity, c.account).toBe('valid');
    const checked = requestsTo(emulator, 'models')
      .slice(before)
      .map((r) => r.headers.authorization);
    expect(checked.sort()).toEqual(all.map((k) => `Bearer ${k}`).sort());
    for (const key of all) await expectSecretNotOnDisk(session.configDir, key);
    // The lock was released by every process.
    expect(existsSync(join(session.configDir, '.lock'))).toBe(false);
  });

  it('device logins and --with-token logins at the same moment all land', async () => {
    const tokenKeys = [newKey(), newKey()];
    const emulator = await file.emulator({ keys: tokenKeys, autoApproveAfterPolls: 0 });
    const session = await file.session();
    const device = ['laptop', 'ci'].map((name) =>
      session.spawn(
        ['auth', 'login', '--provider', 'nanogpt', '--client-name', name, '--base-url', emulator.url],
        opts,
      ),
    );
    const withToken = loginAllAtOnce(session, emulator.url, tokenKeys);
    const runs = [...(await Promise.all(device.map((d) => d.done))), ...(await withToken)];
    for (const run of runs) expectExit(run, 0);

    const issued = emulator.issuedKeys();
    expect(issued).toHaveLength(2);
    const index = (await readIndex(session.configDir))!;
    expect(index.accounts.map((a) => a.account).sort()).toEqual([...issued, ...tokenKeys].map(masked).sort());
    await expectFirstSavedIsActive(session, [...issued, ...tokenKeys]);
  });
});

describe('logins killed with SIGKILL while storing', () => {
  it('leave nothing that outlives logout --all: no credentials.enc, credentials.key or temp file', async () => {
    const keys = Array.from({ length: 8 }, () => newKey());
    const emulator = await file.emulator({ keys });
    const session = await file.session();
    let midWrite = 0;
    for (const [i, key] of keys.entries()) {
      const { child, done } = session.spawn(
        ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        { ...opts, input: `${key}\n` },
      );
      // Kill at the (i % 3 + 1)-th temp file the store creates (key, secrets, index): mid-write.
      const seen = new Set<string>();
      const watcher = watch(session.configDir, (_event, name) => {
        if (typeof name !== 'string' || !name.endsWith('.tmp') || seen.has(name)) return;
        seen.add(name);
        if (seen.size === (i % 3) + 1) {
          child.kill('SIGKILL');
          midWrite++;
        }
      });
      const run = await done;
      watcher.close();
      expect([0, null]).toContain(run.exitCode); // finished first, or killed
    }
    expect(midWrite, 'at least one login was killed in the middle of a write').toBeGreaterThan(0);
    const logout = await session.run(['auth', 'logout', '--all'], opts);
    expectExit(logout, 0);
    const left = await readdir(session.configDir);
    expect(left.filter((n) => n.startsWith('credentials.') || n.endsWith('.tmp'))).toEqual([]);
    const status = await session.run(['auth', 'status', '--json'], opts);
    expectExit(status, 4);
  });
});

describe('secrets', () => {
  it('no key reaches stderr, and reaches stdout only through `auth token`', () => {
    const runs = file.runs();
    const secrets = file.secrets();
    expect(runs.length).toBeGreaterThan(20);
    expect(runs.some((r) => r.args[1] === 'token' && secrets.some((s) => r.stdout.includes(s)))).toBe(true);
    assertNoSecretLeaks(runs, secrets);
  });
});
