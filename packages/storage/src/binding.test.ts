/**
 * The index can't redirect a secret: the base URL is stored with the secret and checked on every read,
 * and the index and config directory pass the owner/mode checks before any secret is read.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { CredentialStore, type SecretBackend } from './index.js';
import { EncryptedFileBackend } from './backends/file-backend.js';

const SECRET = 'nt_live_0b7c7d64aaaabbbbccccdddd';
const HOME_URL = 'https://api.nanoterm.example';
const EVIL_URL = 'http://127.0.0.1:9/evil';

/** An in-memory keychain that counts reads. */
class CountingKeychain implements SecretBackend {
  readonly name = 'keychain' as const;
  readonly items = new Map<string, string>();
  reads = 0;
  async get(key: string) {
    this.reads++;
    return this.items.get(key);
  }
  async set(key: string, secret: string) {
    this.items.set(key, secret);
  }
  async delete(key: string) {
    return this.items.delete(key);
  }
}

let root: string;
let dir: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-binding-'));
  dir = path.join(root, 'latchkey');
});
afterEach(async () => {
  await fs.chmod(dir, 0o700).catch(() => undefined);
  await fs.rm(root, { recursive: true, force: true });
});

const indexFile = () => path.join(dir, 'accounts.json');

/** Rewrites accounts.json the way an attacker would, keeping mode 0600 so the checks pass. */
async function redirectIndex(baseUrl: string | undefined): Promise<void> {
  const doc = JSON.parse(await fs.readFile(indexFile(), 'utf8'));
  for (const record of doc.accounts) {
    if (baseUrl === undefined) delete record.baseUrl;
    else record.baseUrl = baseUrl;
  }
  await fs.writeFile(indexFile(), JSON.stringify(doc));
}

describe.each(['keychain', 'file'] as const)('a %s-held secret is bound to its base URL', (preference) => {
  it('a rewritten baseUrl in the index is STORAGE_TAMPERED (exit 1), and the secret is not returned', async () => {
    const keychain = new CountingKeychain();
    const store = new CredentialStore({ configDir: dir, preference, keychain });
    await store.save({ provider: 'nanoterm', account: 'me', secret: SECRET, baseUrl: HOME_URL });
    expect((await store.get('nanoterm'))?.secret).toBe(SECRET);

    for (const forged of [EVIL_URL, undefined]) {
      await redirectIndex(forged);
      const error = await latchkeyRejection(store.get('nanoterm'));
      expect(error.code).toBe('STORAGE_TAMPERED');
      expect(error.exitCode).toBe(1);
      expect(error.message).toContain(HOME_URL);
      expect(error.message).toContain(forged ?? "the provider's default server");
      expect(error.message).toContain('not issued for');
      expect(error.action).toContain(dir);
      expect(error.action).toContain('latchkey auth login --provider nanoterm');
      expect(`${error.message} ${error.action}`).not.toContain(SECRET);
    }
    await redirectIndex(HOME_URL);
    expect((await store.get('nanoterm'))?.secret).toBe(SECRET);
  });

  it('a secret stored before the binding still works and is bound on first read (trust on first use)', async () => {
    const keychain = new CountingKeychain();
    const store = new CredentialStore({ configDir: dir, preference, keychain });
    await store.save({ provider: 'nanoterm', account: 'me', secret: 'placeholder', baseUrl: HOME_URL });
    // What an older latchkey wrote: the bare secret.
    if (preference === 'keychain') keychain.items.set('nanoterm:me', SECRET);
    else await new EncryptedFileBackend(dir).set('nanoterm:me', SECRET);

    expect((await store.get('nanoterm'))?.secret).toBe(SECRET);
    const stored =
      preference === 'keychain'
        ? keychain.items.get('nanoterm:me')!
        : (await new EncryptedFileBackend(dir).get('nanoterm:me'))!;
    expect(JSON.parse(stored)).toMatchObject({ v: 2, secret: SECRET, baseUrl: HOME_URL });

    await redirectIndex(EVIL_URL);
    expect((await latchkeyRejection(store.get('nanoterm'))).code).toBe('STORAGE_TAMPERED');
  });
});

it('a keychain item another config directory saved for another server says so', async () => {
  const keychain = new CountingKeychain();
  const here = new CredentialStore({ configDir: dir, keychain });
  const elsewhere = path.join(root, 'elsewhere');
  await here.save({ provider: 'nanoterm', account: 'me', secret: SECRET, baseUrl: HOME_URL });
  await new CredentialStore({ configDir: elsewhere, keychain }).save({
    provider: 'nanoterm',
    account: 'me',
    secret: 'nt_live_elsewhereelsewhere',
    baseUrl: 'https://staging.nanoterm.example',
  });
  const error = await latchkeyRejection(here.get('nanoterm'));
  expect(error.code).toBe('STORAGE_TAMPERED');
  expect(error.message).toContain(`last saved by latchkey with config directory ${elsewhere}`);
});

describe('owner and mode checks come before any secret is read', () => {
  it('accounts.json readable by others: STORAGE_INSECURE with the chmod, keychain never read', async () => {
    if (process.platform === 'win32') return;
    const keychain = new CountingKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    await store.save({ provider: 'nanoterm', account: 'me', secret: SECRET, baseUrl: HOME_URL });
    await fs.chmod(indexFile(), 0o644);
    for (const op of [() => store.get('nanoterm'), () => store.list()]) {
      const error = await latchkeyRejection(op());
      expect(error.code).toBe('STORAGE_INSECURE');
      expect(error.exitCode).toBe(1);
      expect(error.action).toContain(`chmod 600 '${indexFile()}'`);
    }
    expect(keychain.reads).toBe(0);
  });

  it('a config dir with group/other bits: STORAGE_INSECURE for a keychain-held account, keychain never read', async () => {
    if (process.platform === 'win32') return;
    const keychain = new CountingKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    await store.save({ provider: 'nanoterm', account: 'me', secret: SECRET, baseUrl: HOME_URL });
    for (const mode of [0o777, 0o750, 0o701]) {
      await fs.chmod(dir, mode);
      const error = await latchkeyRejection(store.get('nanoterm'));
      expect(error.code).toBe('STORAGE_INSECURE');
      expect(error.action).toContain(`chmod 700 '${dir}'`);
    }
    expect(keychain.reads).toBe(0);
  });

  it('no config dir or no index: simply not signed in', async () => {
    const store = new CredentialStore({ configDir: dir, keychain: new CountingKeychain() });
    expect(await store.get('nanoterm')).toBeUndefined();
    expect(await store.list()).toEqual([]);
    await fs.mkdir(dir, { mode: 0o700 });
    expect(await store.get('nanoterm')).toBeUndefined();
  });
});
