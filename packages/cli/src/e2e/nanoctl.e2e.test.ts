/**
 * nanoctl (Nanoservices) through the built binary in a pipe: the three modes and their storage rules
 * (environment: silent and never stored; --token: reported, never stored; --with-token: stored), expired and
 * revoked tokens, logout, and the leak check. The masked prompt is tested in a real terminal in
 * nanoctl-terminal.e2e.test.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, createCliSession, type CliSession } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, type NanoctlEmulator } from '@latchkey/testkit';
import {
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  readIndex,
} from './harness.js';

const emulators: NanoctlEmulator[] = [];
const sessions: CliSession[] = [];
const secrets: string[] = [];
afterEach(async () => {
  await Promise.all(emulators.splice(0).map((e) => e.close()));
});
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.dispose()));
});

async function setup() {
  const emulator = await startNanoctlEmulator();
  emulators.push(emulator);
  const session = await createCliSession();
  sessions.push(session);
  const token = (spec: Parameters<NanoctlEmulator['addToken']>[0] = {}) => {
    const added = emulator.addToken({ username: 'ada', expiresAt: '2030-06-30T00:00:00.000Z', ...spec });
    secrets.push(added.token);
    return added.token;
  };
  const run = (args: string[], env: Record<string, string | undefined> = {}, input?: string) =>
    session.run(['auth', ...args], {
      // One time zone, so the local times people see are the same bytes everywhere.
      env: { LATCHKEY_NANOCTL_BASE_URL: emulator.url, TZ: 'UTC', ...env },
      input,
      timeoutMs: RUN_TIMEOUT_MS,
    });
  return { emulator, session, token, run };
}

/** Every file of the config dir with its bytes, to prove a command changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    out[name] = (await readFile(join(dir, name))).toString('base64');
  }
  return out;
}

describe('environment mode: NANOSERVICES_TOKEN', () => {
  it('valid: exit 0, prints nothing at all, stores nothing; auth token and status use it', async () => {
    const { emulator, session, token, run } = await setup();
    const value = token();
    const login = await run(['login', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: value });
    expectExit(login, 0);
    expect(login.stdout).toBe('');
    expect(login.stderr).toBe('');
    expect(emulator.requests.map((r) => [r.path, r.headers.authorization, r.status])).toEqual([
      ['/v1/whoami', `Bearer ${value}`, 200],
    ]);
    await expectNothingStored(session.configDir);
    const printed = await run(['token', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: value });
    expect(printed.stdout).toBe(`${value}\n`);
    const status = await run(['status', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: value });
    expectExit(status, 0);
    expect(status.stdout).toContain('environment variable NANOSERVICES_TOKEN (not stored)');
    expect(status.stdout).toMatch(/Name: +ada/);
  });

  it('invalid: exit 4 with one line on stderr; server down: non-zero (1) with one line', async () => {
    const { emulator, session, run } = await setup();
    const bad = await run(['login', '--provider', 'nanoctl'], {
      NANOSERVICES_TOKEN: 'nsv_not-a-real-token-0000',
    });
    expectExit(bad, 4);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^latchkey: Nanoservices rejected the token[^\n]*\n$/);
    const url = emulator.url;
    await emulator.close();
    emulators.splice(0);
    const down = await session.run(['auth', 'login', '--provider', 'nanoctl'], {
      env: { LATCHKEY_NANOCTL_BASE_URL: url, NANOSERVICES_TOKEN: 'nsv_whatever-0000000000' },
      timeoutMs: RUN_TIMEOUT_MS,
    });
    expectExit(down, 1);
    expect(down.stderr).toMatch(/^latchkey: Could not reach 127\.0\.0\.1:\d+[^\n]*\n$/);
    await expectNothingStored(session.configDir);
  });

  it('an expired token is rejected with a message that names the date', async () => {
    const { run, token } = await setup();
    const value = token({ expiresAt: '2024-01-31T12:00:00.000Z' });
    const login = await run(['login', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: value });
    expectExit(login, 4);
    expect(login.stderr).toContain('2024-01-31');
  });
});

describe('flag mode and --with-token', () => {
  it('--token: validates, shows the user and expiry, warns once about shell history, stores nothing', async () => {
    const { session, token, run } = await setup();
    const stored = token({ username: 'someone-else' });
    expectExit(await run(['login', '--provider', 'nanoctl', '--with-token'], {}, stored), 0);
    const before = await snapshot(session.configDir);
    const value = token();
    const login = await run(['login', '--provider', 'nanoctl', '-t', value]);
    expectExit(login, 0);
    expect(login.stderr).toContain(
      'The token is valid for Nanoservices as ada (token expires 2030-06-30 00:00:00 +00:00)',
    );
    expect(login.stderr.match(/shell history/g)).toHaveLength(1);
    expect(await snapshot(session.configDir)).toEqual(before);
  });

  it('--with-token stores it encrypted with the user and expiry; logout deletes it; an env token is untouched and reported', async () => {
    const { session, token, run } = await setup();
    const value = token();
    const login = await run(['login', '--provider', 'nanoctl', '--with-token'], {}, `${value}\n`);
    expectExit(login, 0);
    expect(login.stderr).toContain(
      'Logged in to Nanoservices as ada (token expires 2030-06-30 00:00:00 +00:00)',
    );
    expect((await readIndex(session.configDir))?.accounts[0]).toMatchObject({
      provider: 'nanoctl',
      account: 'ada',
      expiresAt: '2030-06-30T00:00:00.000Z',
    });
    await expectSecretNotOnDisk(session.configDir, value);

    const envToken = token({ username: 'ci-bot' });
    const logout = await run(['logout', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: envToken });
    expectExit(logout, 0);
    expect(logout.stderr).toContain('NANOSERVICES_TOKEN is still set');
    expectExit(await run(['token', '--provider', 'nanoctl']), 4);
    const status = await run(['status', '--provider', 'nanoctl'], { NANOSERVICES_TOKEN: envToken });
    expectExit(status, 0);
    expect(status.stdout).toContain('environment variable NANOSERVICES_TOKEN');
    expect(status.stdout).not.toContain('stored in the file');
  });

  it('a revoked token via --with-token: exit 4, nothing stored', async () => {
    const { emulator, session, token, run } = await setup();
    const value = token();
    emulator.revokeToken(value);
    const login = await run(['login', '--provider', 'nanoctl', '--with-token'], {}, value);
    expectExit(login, 4);
    await expectNothingStored(session.configDir);
  });

  it('no terminal, no env, no flag, no stdin: a usage error that names the ways in', async () => {
    const { emulator, run } = await setup();
    const login = await run(['login', '--provider', 'nanoctl']);
    expectExit(login, 2);
    expect(login.stderr).toContain('--with-token');
    expect(login.stderr).toContain('--token');
    expect(login.stderr).toContain('NANOSERVICES_TOKEN');
    expect(emulator.requests).toEqual([]);
  });
});

describe('nanoctl leaks', () => {
  it('no token appears in any output except auth token', () => {
    const runs = sessions.flatMap((s) => s.runs);
    expect(runs.length).toBeGreaterThan(12);
    assertNoSecretLeaks(runs, secrets);
  });
});
