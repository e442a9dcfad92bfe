/**
 * Nothing a crash leaves behind outlives logout: stray temp files, secrets without an index record, and
 * the encrypted file and its key once no account uses them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore, type SecretBackend } from './index.js';

const SECRET_A = 'sk-nano-0b7c7d64aaaabbbbccccdddd';
const SECRET_B = 'sk-nano-1111222233334444deadbeef';

/** An in-memory keychain that can list its items, like @napi-rs/keyring's findCredentials. */
class ListingKeychain implements SecretBackend {
  readonly name = 'keychain' as const;
  readonly items = new Map<string, string>();
  async get(key: string) {
    return this.items.get(key);
  }
  async set(key: string, secret: string) {
    this.items.set(key, secret);
  }
  async delete(key: string) {
    return this.items.delete(key);
  }
  async findAll() {
    return [...this.items].map(([key, secret]) => ({ key, secret }));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-leftovers-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const names = async () => (await fs.readdir(dir)).sort();

/** Drops records from accounts.json behind the store's back (a crash after the secret was written). */
async function dropFromIndex(account: string): Promise<void> {
  const file = path.join(dir, 'accounts.json');
  const doc = JSON.parse(await fs.readFile(file, 'utf8'));
  doc.accounts = doc.accounts.filter((r: { account: string }) => r.account !== account);
  for (const [p, a] of Object.entries(doc.active)) if (a === account) delete doc.active[p];
  await fs.writeFile(file, JSON.stringify(doc));
}

describe('stray temp files', () => {
  it("the next write removes a dead writer's and any minute-old temp file, not a live writer's fresh one", async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const dead = `.credentials.enc.${deadPid()}.a1b2c3d4e5f6.tmp`;
    const old = `.accounts.json.${process.pid}.0a0b0c0d0e0f.tmp`;
    const live = `.accounts.json.${process.pid}.111111111111.tmp`;
    for (const name of [dead, old, live]) await fs.writeFile(path.join(dir, name), 'x', { mode: 0o600 });
    const minuteAgo = new Date(Date.now() - 61_000);
    await fs.utimes(path.join(dir, old), minuteAgo, minuteAgo);

    await store.save({ provider: 'p', account: 'b', secret: SECRET_B });
    expect((await names()).filter((n) => n.endsWith('.tmp'))).toEqual([live]);
  });
});

describe('logout removes every temp file under the lock', () => {
  it.each([
    ['remove (one account, another stays in the file)', false],
    ['remove of the last account', true],
  ])("%s: a live pid's fresh copies of the encrypted file and the key go too", async (_name, last) => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    if (!last) await store.save({ provider: 'q', account: 'b', secret: SECRET_B });
    // What a writer that is still alive left behind: the whole document with A's secret, and the key.
    for (const file of ['credentials.enc', 'credentials.key']) {
      await fs.copyFile(path.join(dir, file), path.join(dir, `.${file}.${process.pid}.a1b2c3d4e5f6.tmp`));
    }
    await store.remove('p', 'a');
    expect((await names()).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(await names()).toEqual(
      last ? ['accounts.json'] : ['accounts.json', 'credentials.enc', 'credentials.key'],
    );
  });

  it("removeOrphans (logout --all's clean-up) removes a live pid's fresh temp file", async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store.remove('p', 'a');
    const live = `.credentials.key.${process.pid}.0a0b0c0d0e0f.tmp`;
    await fs.writeFile(path.join(dir, live), 'x', { mode: 0o600 });
    await store.removeOrphans();
    expect(await names()).toEqual(['accounts.json']);
  });
});

describe('orphaned secrets', () => {
  it('a file entry without an index record is listed (no secret), and removeOrphans deletes it and the files', async () => {
    const store = new CredentialStore({ configDir: dir, preference: 'file' });
    await store.save({ provider: 'nanogpt', account: 'a', secret: SECRET_A });
    await dropFromIndex('a');
    const orphans = await store.orphans();
    expect(orphans).toEqual([{ provider: 'nanogpt', account: 'a', backend: 'file' }]);
    expect(JSON.stringify(orphans)).not.toContain(SECRET_A);

    expect(await store.removeOrphans()).toEqual(orphans);
    expect(await names()).toEqual(['accounts.json']);
    expect(await store.orphans()).toEqual([]);
    expect(await store.removeOrphans()).toEqual([]);
  });

  it("keychain items this directory wrote without an index record are orphans; another directory's are not", async () => {
    const keychain = new ListingKeychain();
    const store = new CredentialStore({ configDir: dir, keychain });
    const other = new CredentialStore({ configDir: path.join(dir, 'other'), keychain });
    await store.save({ provider: 'nanogpt', account: 'kept', secret: SECRET_A });
    await store.save({ provider: 'nanogpt', account: 'lost', secret: SECRET_B });
    await other.save({ provider: 'nanogpt', account: 'elsewhere', secret: 'sk-nano-otherotherother' });
    keychain.items.set('nanogpt:legacy', 'sk-nano-legacylegacylegacy'); // bare: whose, nobody knows
    await dropFromIndex('lost');

    expect(await store.orphans()).toEqual([{ provider: 'nanogpt', account: 'lost', backend: 'keychain' }]);
    expect(await store.removeOrphans()).toEqual([
      { provider: 'nanogpt', account: 'lost', backend: 'keychain' },
    ]);
    expect([...keychain.items.keys()].sort()).toEqual([
      'nanogpt:elsewhere',
      'nanogpt:kept',
      'nanogpt:legacy',
    ]);
    // 'if-used': not searched when no account of the index is in the keychain (auth status).
    const refuse = {
      name: 'keychain' as const,
      get: (key: string) => keychain.get(key),
      set: (key: string, secret: string) => keychain.set(key, secret),
      delete: (key: string) => keychain.delete(key),
      findAll: () => Promise.reject(new Error('keychain used')),
    };
    await new CredentialStore({ configDir: dir, preference: 'file', keychain }).save({
      provider: 'p',
      account: 'f',
      secret: SECRET_A,
    });
    await dropFromIndex('kept');
    await dropFromIndex('lost');
    const calls: string[] = [];
    const counting = { ...refuse, findAll: () => (calls.push('findAll'), keychain.findAll()) };
    expect(
      await new CredentialStore({ configDir: dir, keychain: counting }).orphans({ keychain: 'if-used' }),
    ).toEqual([]);
    expect(calls).toEqual([]);
    expect(await new CredentialStore({ configDir: dir, keychain: counting }).orphans()).toEqual([
      { provider: 'nanogpt', account: 'kept', backend: 'keychain' },
    ]);
    // With preference 'file' the keychain is not searched at all.
    const fileOnly = new CredentialStore({ configDir: dir, preference: 'file', keychain: refuse });
    expect(await fileOnly.orphans()).toEqual([]);
  });
});

describe('credentials.enc and credentials.key', () => {
  it('are deleted when the last file-backed account is removed, and kept while one remains', async () => {
    const keychain = new ListingKeychain();
    const file = new CredentialStore({ configDir: dir, preference: 'file', keychain });
    const kc = new CredentialStore({ configDir: dir, preference: 'keychain', keychain });
    await file.save({ provider: 'p', account: 'a', secret: SECRET_A });
    await file.save({ provider: 'p', account: 'b', secret: SECRET_B });
    await kc.save({ provider: 'q', account: 'k', secret: 'q-secret-value-123' });
    await file.remove('p', 'a');
    expect(await names()).toEqual(['accounts.json', 'credentials.enc', 'credentials.key']);
    await file.remove('q'); // a keychain account: the file still holds b
    expect(await names()).toEqual(['accounts.json', 'credentials.enc', 'credentials.key']);
    await file.remove('p', 'b');
    expect(await names()).toEqual(['accounts.json']);
  });

  it('are deleted when the last file-backed account moves to the keychain', async () => {
    const keychain = new ListingKeychain();
    await new CredentialStore({ configDir: dir, preference: 'file', keychain }).save({
      provider: 'p',
      account: 'a',
      secret: SECRET_A,
    });
    await new CredentialStore({ configDir: dir, preference: 'keychain', keychain }).save({
      provider: 'p',
      account: 'a',
      secret: SECRET_B,
    });
    expect(await names()).toEqual(['accounts.json']);
  });

  it('a corrupt credentials file is never deleted, and does not stop removing a keychain account', async () => {
    const keychain = new ListingKeychain();
    const store = new CredentialStore({ configDir: dir, preference: 'keychain', keychain });
    await store.save({ provider: 'p', account: 'a', secret: SECRET_A });
    const enc = path.join(dir, 'credentials.enc');
    await fs.writeFile(enc, 'not json', { mode: 0o600 });
    expect((await store.remove('p')).map((r) => r.account)).toEqual(['a']);
    expect(await fs.readFile(enc, 'utf8')).toBe('not json');
  });
});
