/**
 * The index is as trusted as the secret, and nothing a crash leaves behind outlives logout, through the
 * built binary with the file backend (keychain.e2e.test.ts does the same against a real Secret Service):
 * a rewritten `accounts.json` can't send a stored key to another server, the owner/mode checks come
 * before any secret is read, a secret stored before the binding keeps working, leftover temp files and
 * orphaned secrets are shown and removed, and a lock left by a dead process is taken over at once.
 */
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertNoSecretLeaks, timeBound } from '@latchkey/conformance/tools';
import {
  E2eFile,
  RUN_TIMEOUT_MS,
  expectExit,
  newKey,
  readIndex,
  textWatcher,
  type CliSession,
  type NanoGptEmulator,
} from './harness.js';

const file = new E2eFile();
afterEach(() => file.cleanup());
const opts = { timeoutMs: RUN_TIMEOUT_MS };

async function signedIn(): Promise<{ key: string; emulator: NanoGptEmulator; session: CliSession }> {
  const key = newKey();
  const emulator = await file.emulator({ keys: [key] });
  const session = await file.session();
  const login = await session.run(
    ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
    { ...opts, input: `${key}\n` },
  );
  expectExit(login, 0);
  return { key, emulator, session };
}

/** What a second local user does to a world-writable config dir: point the index at their server. */
async function redirectIndex(configDir: string, baseUrl: string): Promise<void> {
  const index = (await readIndex(configDir))!;
  for (const record of index.accounts) record.baseUrl = baseUrl;
  await writeFile(join(configDir, 'accounts.json'), JSON.stringify(index)); // keeps mode 0600
}

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('a rewritten index cannot redirect a stored secret', () => {
  it('auth status and auth token exit 1 (STORAGE_TAMPERED) and the other server receives nothing', async () => {
    const { session } = await signedIn();
    const attacker = await file.emulator();
    await redirectIndex(session.configDir, attacker.url);

    const status = await session.run(['auth', 'status', '--provider', 'nanogpt', '--json'], opts);
    expectExit(status, 1);
    const [entry] = (JSON.parse(status.stdout) as { result: { credentials: Array<Record<string, unknown>> } })
      .result.credentials;
    expect(entry).toMatchObject({ validity: 'error', error: { code: 'STORAGE_TAMPERED' } });

    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain('not issued for');
    expect(token.stderr).toContain('sign in again');

    const human = await session.run(['auth', 'status'], opts);
    expectExit(human, 1);
    expect(human.stdout).toContain('not issued for');
    expect(attacker.requests).toEqual([]);
  });

  it('accounts.json readable by others, or a config dir open to others: STORAGE_INSECURE with the chmod', async () => {
    const { session, emulator } = await signedIn();
    const before = emulator.requests.length;
    const index = join(session.configDir, 'accounts.json');
    await chmod(index, 0o644);
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectExit(token, 1);
    expect(token.stdout).toBe('');
    expect(token.stderr).toContain(`chmod 600 '${index}'`);
    await chmod(index, 0o600);

    await chmod(session.configDir, 0o777);
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], opts);
    expectExit(status, 1);
    expect(status.stderr).toContain(`chmod 700 '${session.configDir}'`);
    await chmod(session.configDir, 0o700);
    expect(emulator.requests.length).toBe(before);
  });

  it('no config dir at all is simply "not signed in" (exit 4)', async () => {
    const session = await file.session();
    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], {
      ...opts,
      env: { LATCHKEY_CONFIG_DIR: join(session.configDir, 'never-created') },
    });
    expectExit(token, 4);
  });
});

/** accounts.json, credentials.key and credentials.enc as latchkey wrote them before the binding: the bare key. */
async function writeOldStorage(configDir: string, baseUrl: string, secret: string): Promise<Buffer> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const account = `sk-nano-${secret.slice(8, 16)}...`;
  const index = {
    version: 1,
    accounts: [
      {
        provider: 'nanogpt',
        account,
        backend: 'file',
        baseUrl,
        method: 'token',
        createdAt: new Date().toISOString(),
      },
    ],
    active: { nanogpt: account },
  };
  await writeFile(join(configDir, 'accounts.json'), JSON.stringify(index), { mode: 0o600 });
  const cryptoKey = randomBytes(32);
  await writeFile(join(configDir, 'credentials.key'), `${cryptoKey.toString('base64')}\n`, { mode: 0o600 });
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cryptoKey, iv);
  cipher.setAAD(Buffer.from(`latchkey credentials v1\0nanogpt:${account}`));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const doc = {
    version: 1,
    keyId: createHash('sha256').update(cryptoKey).digest('hex').slice(0, 16),
    entries: {
      [`nanogpt:${account}`]: {
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
        data: data.toString('base64'),
      },
    },
  };
  await writeFile(join(configDir, 'credentials.enc'), JSON.stringify(doc), { mode: 0o600 });
  return cryptoKey;
}

async function decryptEntry(configDir: string, cryptoKey: Buffer): Promise<string> {
  const doc = JSON.parse(await readFile(join(configDir, 'credentials.enc'), 'utf8'));
  const entries = Object.entries(doc.entries) as Array<[string, { iv: string; tag: string; data: string }]>;
  expect(entries).toHaveLength(1);
  const [name, entry] = entries[0]!;
  const decipher = createDecipheriv('aes-256-gcm', cryptoKey, Buffer.from(entry.iv, 'base64'));
  decipher.setAAD(Buffer.from(`latchkey credentials v1\0${name}`));
  decipher.setAuthTag(Buffer.from(entry.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(entry.data, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

describe('a secret stored before the binding', () => {
  it('keeps working, is bound to its base URL on first read, and is then protected like a new one', async () => {
    const key = file.secret(newKey());
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const cryptoKey = await writeOldStorage(session.configDir, emulator.url, key);

    const token = await session.run(['auth', 'token', '--provider', 'nanogpt'], opts);
    expectExit(token, 0);
    expect(token.stdout).toBe(`${key}\n`);
    expect(JSON.parse(await decryptEntry(session.configDir, cryptoKey))).toEqual({
      v: 2,
      secret: key,
      baseUrl: emulator.url,
    });
    const status = await session.run(['auth', 'status', '--provider', 'nanogpt'], opts);
    expectExit(status, 0);

    const attacker = await file.emulator();
    await redirectIndex(session.configDir, attacker.url);
    expectExit(await session.run(['auth', 'status', '--provider', 'nanogpt'], opts), 1);
    expect(attacker.requests).toEqual([]);
  });
});

describe('what a crash leaves behind', () => {
  it('a leftover temp file holding an encrypted document is gone after logout --all, with the file and key', async () => {
    const { session } = await signedIn();
    const dir = session.configDir;
    // A killed write: the temp copy of credentials.enc that never got renamed.
    await copyFile(join(dir, 'credentials.enc'), join(dir, `.credentials.enc.${deadPid()}.a1b2c3d4e5f6.tmp`));
    const logout = await session.run(['auth', 'logout', '--all'], opts);
    expectExit(logout, 0);
    expect((await readdir(dir)).sort()).toEqual(['accounts.json']);
  });

  it('a secret without an index record is shown by auth status as orphaned and removed by logout --all', async () => {
    const { session, emulator } = await signedIn();
    const dir = session.configDir;
    const index = (await readIndex(dir))!;
    const account = index.accounts[0]!.account;
    await writeFile(join(dir, 'accounts.json'), JSON.stringify({ ...index, accounts: [], active: {} }));
    const before = emulator.requests.length;

    const human = await session.run(['auth', 'status'], opts);
    expectExit(human, 4);
    expect(human.stdout).toContain(`! ${account}: orphaned secret`);
    expect(human.stdout).toContain(
      `left in the file in ${dir} protected by its permissions (the key sits beside it)`,
    );
    const json = await session.run(['auth', 'status', '--json'], opts);
    expectExit(json, 4);
    expect(JSON.parse(json.stdout)).toEqual({
      status: 4,
      result: {
        credentials: [
          expect.objectContaining({
            provider: 'nanogpt',
            account,
            source: 'orphaned',
            backend: 'file',
            validity: 'orphaned',
            error: expect.objectContaining({ code: 'CREDENTIAL_ORPHANED' }),
          }),
        ],
      },
      warnings: [],
    });
    expect(emulator.requests.length).toBe(before); // an orphan is never sent anywhere

    const logout = await session.run(['auth', 'logout', '--all'], opts);
    expectExit(logout, 0);
    expect(logout.stderr).toContain(
      `Deleted an orphaned nanogpt secret (${account}) from the file protected by its permissions (the key sits beside it)`,
    );
    expect((await readdir(dir)).sort()).toEqual(['accounts.json']);
    const after = await session.run(['auth', 'status', '--json'], opts);
    expectExit(after, 4);
  });
});

describe('the storage lock', () => {
  it('a lock left by a dead process on this host is taken over at once (not after 10 s)', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    await writeFile(join(session.configDir, '.lock'), `${deadPid()} ${hostname()} 0123abcd\n`, {
      mode: 0o600,
    });
    const started = Date.now();
    const login = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: `${key}\n` },
    );
    expectExit(login, 0);
    // A lock only broken for being stale would take 10 s, and a login that waits on a lock says so after
    // 1 s (next test): it did not wait. The time bound stretches on a busy machine.
    expect(login.stderr).not.toContain('Waiting for another latchkey process');
    expect(Date.now() - started).toBeLessThan(timeBound(4000));
    expect(await readdir(session.configDir)).not.toContain('.lock');
  });

  it('a live holder: the waiting login says so after 1 s, and finishes once the lock is released', async () => {
    const key = newKey();
    const emulator = await file.emulator({ keys: [key] });
    const session = await file.session();
    const lock = join(session.configDir, '.lock');
    // This test process stands in for another latchkey writing credentials.
    await writeFile(lock, `${process.pid} ${hostname()} 0123abcd\n`, { mode: 0o600 });
    const stderr = textWatcher();
    const { done } = session.spawn(
      ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
      { ...opts, input: `${key}\n`, onStderr: (chunk) => stderr.feed(chunk) },
    );
    const seen = await stderr.until((t) => t.includes('Waiting for another latchkey'), 'the waiting line');
    expect(seen).toContain(
      `Waiting for another latchkey process (pid ${process.pid}) that is writing credentials…`,
    );
    await rm(lock); // the other process is done
    const login = await done;
    expectExit(login, 0);
    expect(login.stderr.match(/Waiting for another latchkey/g)).toHaveLength(1);
  });
});

it('never leaks a key', () => {
  assertNoSecretLeaks(file.runs(), file.secrets());
});
