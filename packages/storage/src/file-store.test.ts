import { createCipheriv, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { CredentialStore, type SecretBackend } from './index.js';
import { fsHooks } from './fs-util.js';

const SECRET_A = 'sk-nano-0b7c7d64aaaabbbbccccdddd';
const SECRET_B = 'sk-nano-1111222233334444deadbeef';

let root: string;
let dir: string;

/** A keychain that must never be touched by file-backed operations. */
const noKeychain: SecretBackend = {
  name: 'keychain',
  get: () => Promise.reject(new Error('keychain used')),
  set: () => Promise.reject(new Error('keychain used')),
  delete: () => Promise.reject(new Error('keychain used')),
};

function fileStore(now?: () => number): CredentialStore {
  return new CredentialStore({ configDir: dir, preference: 'file', keychain: noKeychain, now });
}

const rejection = latchkeyRejection;

const mode = async (p: string) => (await fs.stat(p)).mode & 0o777;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-storage-'));
  dir = path.join(root, 'config', 'latchkey');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('encrypted file backend', () => {
  it('creates the directory 0700 and every file 0600', async () => {
    await fileStore().save({ provider: 'nanogpt', account: 'a', secret: SECRET_A });
    expect(await mode(dir)).toBe(0o700);
    for (const name of ['accounts.json', 'credentials.enc', 'credentials.key']) {
      expect(await mode(path.join(dir, name))).toBe(0o600);
    }
  });

  it('never writes the secret in plaintext, and keeps only metadata in the index', async () => {
    await fileStore().save({
      provider: 'nanogpt',
      account: 'alice@example.com',
      secret: SECRET_A,
      baseUrl: 'https://nano-gpt.com/api',
      identity: { email: 'alice@example.com' },
      method: 'token',
    });
    for (const name of await fs.readdir(dir)) {
      const bytes = await fs.readFile(path.join(dir, name));
      expect(bytes.includes(Buffer.from(SECRET_A)), name).toBe(false);
      expect(bytes.includes(Buffer.from(SECRET_A.slice(8))), name).toBe(false);
    }
    const index = JSON.parse(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8'));
    expect(index.version).toBe(1);
    expect(index.active).toEqual({ nanogpt: 'alice@example.com' });
    expect(index.accounts[0]).toMatchObject({
      provider: 'nanogpt',
      backend: 'file',
      identity: { email: 'alice@example.com' },
    });
    const enc = JSON.parse(await fs.readFile(path.join(dir, 'credentials.enc'), 'utf8'));
    expect(Object.keys(enc.entries)).toEqual(['nanogpt:alice@example.com']);
    expect(Object.keys(enc.entries['nanogpt:alice@example.com']).sort()).toEqual(['data', 'iv', 'tag']);
  });

  it('uses a fresh IV for every write', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const first = JSON.parse(await fs.readFile(path.join(dir, 'credentials.enc'), 'utf8')).entries['p:a'];
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const second = JSON.parse(await fs.readFile(path.join(dir, 'credentials.enc'), 'utf8')).entries['p:a'];
    expect(second.iv).not.toBe(first.iv);
    expect(second.data).not.toBe(first.data);
  });

  it('replaces files atomically: no temp files left, old content intact when the rename fails', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store.save({ provider: 'p', account: 'b', secret: SECRET_B });
    expect((await fs.readdir(dir)).sort()).toEqual(['accounts.json', 'credentials.enc', 'credentials.key']);

    const before = await Promise.all(
      ['accounts.json', 'credentials.enc'].map((n) => fs.readFile(path.join(dir, n))),
    );
    const realRename = fsHooks.rename;
    fsHooks.rename = () => {
      throw Object.assign(new Error('simulated crash'), { code: 'EIO' });
    };
    try {
      const error = await rejection(
        store.save({ provider: 'p', account: 'c', secret: 'sk-nano-cccccccccccccccc' }),
      );
      expect(error.code).toBe('STORAGE_IO');
    } finally {
      fsHooks.rename = realRename;
    }
    const after = await Promise.all(
      ['accounts.json', 'credentials.enc'].map((n) => fs.readFile(path.join(dir, n))),
    );
    expect(after).toEqual(before);
    expect((await fs.readdir(dir)).sort()).toEqual(['accounts.json', 'credentials.enc', 'credentials.key']);
    expect((await store.get('p', 'a'))?.secret).toBe(SECRET_A);
    expect((await store.get('p', 'b'))?.secret).toBe(SECRET_B);
    expect(await store.get('p', 'c')).toBeUndefined();
  });

  it('save, get, list, remove and active switching', async () => {
    let t = Date.parse('2025-01-01T00:00:00Z');
    const store = fileStore(() => (t += 1000));
    expect(await store.get('nanogpt')).toBeUndefined();
    expect(await store.list()).toEqual([]);

    const first = await store.save({ provider: 'nanogpt', account: 'a', secret: SECRET_A, method: 'token' });
    expect(first.fallbackReason).toBeUndefined();
    expect(first.record).toMatchObject({
      provider: 'nanogpt',
      account: 'a',
      backend: 'file',
      method: 'token',
    });
    expect(first.record.createdAt).toBe('2025-01-01T00:00:01.000Z');
    expect([first.replaced, first.isDefault]).toEqual([false, true]); // the first account is the default
    const second = await store.save({
      provider: 'nanogpt',
      account: 'b',
      secret: SECRET_B,
      expiresAt: '2030-01-01T00:00:00.000Z',
      makeDefault: true,
    });
    expect([second.replaced, second.isDefault]).toEqual([false, true]);
    await store.save({ provider: 'kaneo', account: 'k', secret: 'kaneo-secret-123' });

    expect((await store.get('nanogpt'))?.secret).toBe(SECRET_B); // made the default
    expect((await store.get('nanogpt', 'a'))?.secret).toBe(SECRET_A);
    expect(await store.get('nanogpt', 'nobody')).toBeUndefined();
    expect((await store.list('nanogpt')).map((r) => [r.account, r.active])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    expect((await store.list()).length).toBe(3);

    // Saving again replaces the entry (no duplicate); made the default on request.
    const again = await store.save({
      provider: 'nanogpt',
      account: 'a',
      secret: 'sk-nano-replacedreplaced',
      makeDefault: true,
    });
    expect([again.replaced, again.isDefault]).toEqual([true, true]);
    expect((await store.get('nanogpt'))?.secret).toBe('sk-nano-replacedreplaced');
    expect((await store.list('nanogpt')).map((r) => [r.account, r.active])).toEqual([
      ['b', false],
      ['a', true],
    ]);

    // Removing the active account makes another one active.
    const removed = await store.remove('nanogpt');
    expect(removed.map((r) => r.account)).toEqual(['a']);
    expect((await store.list('nanogpt')).map((r) => [r.account, r.active])).toEqual([['b', true]]);
    expect((await store.get('nanogpt'))?.secret).toBe(SECRET_B);
    const enc = JSON.parse(await fs.readFile(path.join(dir, 'credentials.enc'), 'utf8'));
    expect(Object.keys(enc.entries).sort()).toEqual(['kaneo:k', 'nanogpt:b']);

    expect(await store.remove('nanogpt', 'nobody')).toEqual([]);
    await store.save({ provider: 'nanogpt', account: 'c', secret: 'sk-nano-cccccccccccccccc' });
    expect((await store.remove('nanogpt', 'all')).map((r) => r.account).sort()).toEqual(['b', 'c']);
    expect(await store.get('nanogpt')).toBeUndefined();
    expect((await store.list()).map((r) => [r.provider, r.active])).toEqual([['kaneo', true]]);
  });

  it('remove on a config dir that does not exist returns nothing and creates nothing', async () => {
    expect(await fileStore().remove('nanogpt', 'all')).toEqual([]);
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('CREDENTIAL_MISSING (exit 4) when the index names a secret the file lacks', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const enc = JSON.parse(await fs.readFile(path.join(dir, 'credentials.enc'), 'utf8'));
    enc.entries = {};
    await fs.writeFile(path.join(dir, 'credentials.enc'), JSON.stringify(enc), { mode: 0o600 });
    const error = await rejection(store.get('p'));
    expect(error.code).toBe('CREDENTIAL_MISSING');
    expect(error.exitCode).toBe(4);
    expect(error.action).toContain('login');
  });

  it('rejects invalid provider ids and empty secrets', async () => {
    expect((await rejection(fileStore().save({ provider: 'a:b', account: 'x', secret: 's' }))).code).toBe(
      'USAGE',
    );
    expect((await rejection(fileStore().save({ provider: 'p', account: 'x', secret: '' }))).code).toBe(
      'USAGE',
    );
  });
});

describe('corrupt and insecure files are reported and never overwritten', () => {
  async function expectCorrupt(file: string, store: CredentialStore, ops: Array<() => Promise<unknown>>) {
    const bytes = await fs.readFile(file);
    for (const op of ops) {
      const error = await rejection(op());
      expect(error.code).toBe('STORAGE_CORRUPT');
      expect(error.exitCode).toBe(1);
      expect(error.message).toContain(file);
      expect(error.action).toContain(`mv '${file}' '${file}.bak'`);
      expect(await fs.readFile(file)).toEqual(bytes);
    }
    void store;
  }

  it('corrupt index: STORAGE_CORRUPT from every operation, bytes unchanged', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const file = path.join(dir, 'accounts.json');
    await fs.writeFile(file, '{"version":1,"accounts":[{"provider":');
    await expectCorrupt(file, store, [
      () => store.get('p'),
      () => store.list(),
      () => store.save({ provider: 'p', account: 'b', secret: SECRET_B }),
      () => store.remove('p', 'all'),
    ]);
  });

  it('index with an unknown version: STORAGE_CORRUPT', async () => {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, 'accounts.json');
    await fs.writeFile(file, JSON.stringify({ version: 99, accounts: [], active: {} }), { mode: 0o600 });
    const store = fileStore();
    await expectCorrupt(file, store, [
      () => store.list(),
      () => store.save({ provider: 'p', account: 'a', secret: SECRET_A }),
    ]);
  });

  it('tampered ciphertext: STORAGE_CORRUPT, file unchanged, other entries still readable', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store.save({ provider: 'p', account: 'b', secret: SECRET_B });
    const file = path.join(dir, 'credentials.enc');
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    const data = Buffer.from(doc.entries['p:a'].data, 'base64');
    data[0] = (data[0] ?? 0) ^ 0x01;
    doc.entries['p:a'].data = data.toString('base64');
    await fs.writeFile(file, JSON.stringify(doc));
    await expectCorrupt(file, store, [() => store.get('p', 'a')]);
    expect((await store.get('p', 'b'))?.secret).toBe(SECRET_B);
  });

  it('an entry moved to another account fails to decrypt (the key name is authenticated)', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store.save({ provider: 'p', account: 'b', secret: SECRET_B });
    const file = path.join(dir, 'credentials.enc');
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    doc.entries['p:b'] = doc.entries['p:a'];
    await fs.writeFile(file, JSON.stringify(doc));
    await expectCorrupt(file, store, [() => store.get('p', 'b')]);
  });

  it('a key file replaced by another key: STORAGE_CORRUPT naming the key file, not the entry', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const keyFile = path.join(dir, 'credentials.key');
    await fs.writeFile(keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const error = await rejection(store.get('p', 'a'));
    expect(error.code).toBe('STORAGE_CORRUPT');
    expect(error.message).toContain(`encrypted with a different key than the one in ${keyFile}`);
  });

  it('an entry only OpenSSL opens (a 16-byte IV, which latchkey never writes) is still read, through node:crypto', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const file = path.join(dir, 'credentials.enc');
    const key = Buffer.from((await fs.readFile(path.join(dir, 'credentials.key'), 'utf8')).trim(), 'base64');
    const doc = JSON.parse(await fs.readFile(file, 'utf8'));
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from('latchkey credentials v1\0p:a'));
    const plain = JSON.stringify({ v: 2, secret: SECRET_B, baseUrl: null });
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    doc.entries['p:a'] = {
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
    await fs.writeFile(file, JSON.stringify(doc));
    expect((await store.get('p', 'a'))?.secret).toBe(SECRET_B);
  });

  it('a secret longer than the quick opener takes (a JWT with its refresh token) is read through node:crypto', async () => {
    const store = fileStore();
    const long = `eyJ${'a'.repeat(3000)}`;
    await store.save({ provider: 'p', account: 'a', secret: long });
    expect((await store.get('p', 'a'))?.secret).toBe(long);
  });

  it('invalid JSON in the credentials file and a missing key file: STORAGE_CORRUPT', async () => {
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const keyFile = path.join(dir, 'credentials.key');
    await fs.rename(keyFile, `${keyFile}.gone`);
    const keyError = await rejection(store.get('p'));
    expect(keyError.code).toBe('STORAGE_CORRUPT');
    expect(keyError.message).toContain(keyFile);
    expect((await rejection(store.save({ provider: 'p', account: 'b', secret: SECRET_B }))).code).toBe(
      'STORAGE_CORRUPT',
    );
    await expect(fs.stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' }); // no new key was made
    await fs.rename(`${keyFile}.gone`, keyFile);

    const file = path.join(dir, 'credentials.enc');
    await fs.writeFile(file, 'not json');
    await expectCorrupt(file, store, [
      () => store.get('p'),
      () => store.save({ provider: 'p', account: 'b', secret: SECRET_B }),
    ]);
  });

  it('too-open permissions: STORAGE_INSECURE with the chmod to run', async () => {
    if (process.platform === 'win32') return;
    const store = fileStore();
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const file = path.join(dir, 'credentials.enc');
    await fs.chmod(file, 0o644);
    const error = await rejection(store.get('p'));
    expect(error.code).toBe('STORAGE_INSECURE');
    expect(error.message).toContain(file);
    expect(error.action).toContain(`chmod 600 '${file}'`);
    await fs.chmod(file, 0o600);
    await fs.chmod(dir, 0o755);
    const dirError = await rejection(store.save({ provider: 'p', account: 'b', secret: SECRET_B }));
    expect(dirError.code).toBe('STORAGE_INSECURE');
    expect(dirError.action).toContain(`chmod 700 '${dir}'`);
  });
});
