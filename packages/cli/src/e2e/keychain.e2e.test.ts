/**
 * The keychain backend through the built binary, against a real Secret Service (gnome-keyring on a private
 * D-Bus session, started by scripts/with-secret-service.sh, which `pnpm test` uses). An absent or locked
 * keyring must be reported as such (exit 1), never turned into "not signed in" (exit 4).
 */
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks } from '@latchkey/conformance/tools';
import { startPrivateSecretService } from '@latchkey/testkit';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  expectNothingStored,
  expectSecretNotOnDisk,
  newKey,
  readIndex,
  storedAccounts,
} from './harness.js';

const available = process.env.LATCHKEY_SECRET_SERVICE === '1';
const inCi = Boolean(process.env.CI && process.env.CI !== 'false');
const file = new E2eFile();
afterEach(() => file.cleanup());

/** The session bus of the test's Secret Service, and a bus address that leads nowhere. */
const bus = { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS, LATCHKEY_STORAGE: undefined };
const noBus = {
  DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/latchkey-test-bus',
  LATCHKEY_STORAGE: undefined,
};
const opts = (env: Record<string, string | undefined>, input?: string) => ({
  env,
  input,
  timeoutMs: RUN_TIMEOUT_MS,
});

async function loggedIn(storage: 'keychain' | 'auto', on: Record<string, string | undefined> = bus) {
  const key = newKey();
  const emulator = await file.emulator({ keys: [key] });
  const session = await file.session();
  const login = await session.run(
    [
      'auth',
      'login',
      '--provider',
      'nanogpt',
      '--with-token',
      '--storage',
      storage,
      '--base-url',
      emulator.url,
    ],
    opts(on, `${key}\n`),
  );
  return { key, emulator, session, login };
}

describe.runIf(available)('keychain storage against a real Secret Service', () => {
  it('stores the key in the keychain, not on disk, and auth token reads it back', async () => {
    const { key, session, login } = await loggedIn('keychain');
    expectExit(login, 0);
    expect(login.stderr).toContain('Stored in the system keychain.');
    expect((await storedAccounts(session.configDir)).map((r) => r.backend)).toEqual(['keychain']);
    await expectSecretNotOnDisk(session.configDir, key);
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts(bus));
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], opts(bus));
    expectExit(status, 0);
    expect(status.stdout).toContain('stored in the system keychain');
  });

  it('auto uses the keychain when there is one', async () => {
    const { session, login } = await loggedIn('auto');
    expectExit(login, 0);
    expect((await storedAccounts(session.configDir)).map((r) => r.backend)).toEqual(['keychain']);
  });

  it('an absent Secret Service is reported (exit 1), not "not signed in"', async () => {
    const { session, login } = await loggedIn('keychain');
    expectExit(login, 0);
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts(noBus));
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toMatch(/keychain/i);
    expect(token.stderr).not.toMatch(/not signed in/i);
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt', '--json'], opts(noBus));
    expectExit(status, 1);
    const [entry] = (
      JSON.parse(status.stdout) as {
        result: { credentials: Array<{ validity: string; error?: { code: string } }> };
      }
    ).result.credentials;
    expect(entry).toMatchObject({ validity: 'error', error: { code: 'KEYCHAIN_UNAVAILABLE' } });
  });

  it('--storage keychain without a Secret Service fails and stores nothing; auto falls back and says so', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const args = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url];
    const strict = await session.run([...args, '--storage', 'keychain'], opts(noBus, `${key}\n`));
    expectExit(strict, 1);
    expect(strict.stderr).toMatch(/keychain/i);
    await expectNothingStored(session.configDir);
    const auto = await session.run([...args, '--storage', 'auto', '--json'], opts(noBus, `${key}\n`));
    expectExit(auto, 0);
    const notice =
      'No system keychain is running here (no Secret Service on D-Bus). Stored in a file protected by its permissions instead (the key sits beside it); set LATCHKEY_STORAGE=file to make that the default.';
    expect(auto.stderr).toContain(`! ${notice}\n`);
    // Scripts read the fallback in the envelope's warnings.
    expect(JSON.parse(auto.stdout)).toMatchObject({
      status: 0,
      result: { stored: true, backend: 'file' },
      warnings: [notice],
    });
    // Said once per config dir: the next fallback login stays quiet about it.
    const quiet = await session.run([...args, '--storage', 'auto', '--json'], opts(noBus, `${key}\n`));
    expectExit(quiet, 0);
    expect(quiet.stderr).not.toContain('No system keychain');
    expect(quiet.stderr).toContain('protected by its permissions (the key sits beside it).\n');
    expect(JSON.parse(quiet.stdout)).toMatchObject({ warnings: [] });
    expect((await storedAccounts(session.configDir)).map((r) => r.backend)).toEqual(['file']);
    await expectSecretNotOnDisk(session.configDir, key);
  });

  it('a rewritten index cannot send a keychain-held key elsewhere: exit 1, the other server sees nothing', async () => {
    const { session, login } = await loggedIn('keychain');
    expectExit(login, 0);
    const attacker = await file.emulator();
    const index = (await readIndex(session.configDir))!;
    for (const record of index.accounts) record.baseUrl = attacker.url;
    await writeFile(join(session.configDir, 'accounts.json'), JSON.stringify(index));

    const status = await session.run(['auth', 'status', '--provider', 'nanogpt', '--json'], opts(bus));
    expectExit(status, 1);
    const [entry] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(entry).toMatchObject({ validity: 'error', error: { code: 'STORAGE_TAMPERED' } });
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts(bus));
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('not issued for');
    expect(attacker.requests).toEqual([]);
  });

  it('a config dir open to others stops auth token for a keychain-held key (STORAGE_INSECURE)', async () => {
    const { session, login } = await loggedIn('keychain');
    expectExit(login, 0);
    await chmod(session.configDir, 0o777);
    try {
      const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts(bus));
      expectExit(token, 1);
      expect(token.stdout).toBe('');
      expect(token.stderr).toContain(`has permissions 777`);
      expect(token.stderr).toContain(`chmod 700 '${session.configDir}'`);
    } finally {
      await chmod(session.configDir, 0o700);
    }
  });

  it('a keychain item without an index record: auth status shows it orphaned, logout --all deletes it', async () => {
    const keys = [newKey(), newKey()];
    const emulator = await file.emulator({ keys });
    const session = await file.session();
    for (const key of keys) {
      const login = await session.run(
        [
          'auth',
          'login',
          '--provider',
          'nanogpt',
          '--with-token',
          '--storage',
          'keychain',
          '--base-url',
          emulator.url,
        ],
        opts(bus, `${key}\n`),
      );
      expectExit(login, 0);
    }
    // A crash between the keychain write and the index write: the index never learnt of the first key.
    const index = (await readIndex(session.configDir))!;
    const lost = index.accounts[0]!.account;
    index.accounts = index.accounts.filter((r) => r.account !== lost);
    await writeFile(join(session.configDir, 'accounts.json'), JSON.stringify(index));

    const status = await session.run(['auth', 'status', '--json'], opts(bus));
    expectExit(status, 0);
    const { credentials } = (
      JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } }
    ).result;
    expect(credentials).toEqual([
      expect.objectContaining({ validity: 'valid', backend: 'keychain' }),
      expect.objectContaining({
        account: lost,
        backend: 'keychain',
        validity: 'orphaned',
        source: 'orphaned',
      }),
    ]);
    const logout = await session.run(['auth', 'logout', '--all'], opts(bus));
    expectExit(logout, 0);
    expect(logout.stderr).toContain(`Deleted an orphaned nanogpt secret (${lost}) from the system keychain`);
    const again = await session.run(['auth', 'status', '--json'], opts(bus));
    expectExit(again, 4);
    expect(await readdir(session.configDir)).toEqual(['accounts.json']);
  });

  // On a Secret Service of its own: locking the shared one would lock out the test files running beside this one.
  it('a locked keyring is reported (exit 1) with how to unlock it', async () => {
    const own = await startPrivateSecretService();
    try {
      const ownBus = { ...own.env, LATCHKEY_STORAGE: undefined };
      const { session, login } = await loggedIn('keychain', ownBus);
      expectExit(login, 0);
      own.lock();
      const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts(ownBus));
      expectExit(token, 1);
      expect(token.stdout).toBe('');
      expect(token.stderr).toMatch(/locked/i);
    } finally {
      await own.stop();
    }
  });

  it('never leaks a key or device code', () => {
    expect(file.runs().length).toBeGreaterThan(8);
    assertNoSecretLeaks(file.runs(), file.secrets());
  });
});

// Locally without gnome-keyring the suite above shows as skipped; CI installs it, so there it must run.
if (!available && inCi) {
  describe('keychain storage in CI', () => {
    it('has a Secret Service (run the tests through scripts/with-secret-service.sh with gnome-keyring installed)', () => {
      expect(process.env.LATCHKEY_SECRET_SERVICE, 'CI is set but no Secret Service was started').toBe('1');
    });
  });
}
