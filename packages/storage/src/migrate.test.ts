/**
 * `CredentialStore.migrate` (`latchkey auth migrate`): copy, read back, point the index at the copy, delete
 * the old one; an account that cannot be moved stays where it was; an interruption between any two steps
 * leaves every account readable, and a second run finishes the job. The CLI's migrate.e2e.test.ts kills
 * the real binary at each step; here the steps fail by injection (a rename that fails, a keychain that
 * refuses), in milliseconds.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import { latchkeyRejection } from '@latchkey/testkit';
import { CredentialStore, type SecretBackend } from './index.js';
import { fsHooks } from './fs-util.js';

const A = 'sk-nano-0b7c7d64aaaabbbbccccdddd';
const B = 'sk-nano-1111222233334444deadbeef';
const env = { LATCHKEY_FILE_PASSPHRASE: 'migrate test passphrase', LATCHKEY_FILE_SCRYPT_N: '32768' };
const endpoints = {
  issuer: 'https://idp.example',
  tokenUrl: 'https://idp.example/token',
  revocationUrl: null,
  userinfoUrl: null,
};

let root: string;
let dir: string;
const realRename = fsHooks.rename;

/** An in-memory keychain; `refuse` makes set() fail, `garble` makes get() answer something else. */
function memoryKeychain(
  options: { refuse?: boolean; garble?: boolean } = {},
): SecretBackend & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    name: 'keychain',
    items,
    get: async (key) =>
      options.garble && items.has(key)
        ? '{"v":2,"secret":"other","baseUrl":"https://a.example"}'
        : items.get(key),
    set: async (key, secret) => {
      if (options.refuse)
        throw new LatchkeyError({ code: 'KEYCHAIN_LOCKED', message: 'The OS keychain is locked.' });
      items.set(key, secret);
    },
    delete: async (key) => items.delete(key),
    findAll: async () => [...items].map(([key, secret]) => ({ key, secret })),
  };
}

function store(keychain: SecretBackend = memoryKeychain(), preference: 'file' | 'passphrase' = 'file') {
  return new CredentialStore({ configDir: dir, preference, keychain, env });
}

async function twoInTheFile(): Promise<void> {
  await store().save({ provider: 'nanogpt', account: 'a', secret: A, baseUrl: 'https://a.example' });
  await store().save({
    provider: 'acme',
    account: 'b',
    secret: B,
    refreshToken: 'refresh-b-0123456789',
    endpoints,
  });
}

const files = async () => (await fs.readdir(dir)).filter((n) => !n.startsWith('.')).sort();
const backends = async () =>
  JSON.parse(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8')).accounts.map(
    (r: { account: string; backend: string }) => `${r.account}:${r.backend}`,
  );

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-migrate-'));
  dir = path.join(root, 'config');
});
afterEach(async () => {
  fsHooks.rename = realRename;
  await fs.rm(root, { recursive: true, force: true });
});

describe('migrate', () => {
  it('moves every account: copied, read back, the index switched, the old file and key deleted', async () => {
    await twoInTheFile();
    const outcomes = await store().migrate('passphrase');
    expect(outcomes.map((o) => [o.provider, o.account, o.from, o.to, o.status])).toEqual([
      ['nanogpt', 'a', 'file', 'passphrase', 'moved'],
      ['acme', 'b', 'file', 'passphrase', 'moved'],
    ]);
    expect(await backends()).toEqual(['a:passphrase', 'b:passphrase']);
    expect(await files()).toEqual(['accounts.json', 'credentials.passphrase.enc']);
    const a = await store().get('nanogpt');
    expect(a).toMatchObject({ secret: A, record: { baseUrl: 'https://a.example', backend: 'passphrase' } });
    expect(await store().get('acme')).toMatchObject({
      secret: B,
      refreshToken: 'refresh-b-0123456789',
      endpoints,
    });
    // And back, and into the keychain: nothing is lost on the way.
    const keychain = memoryKeychain();
    await store(keychain).migrate('file', { provider: 'acme' });
    expect(await backends()).toEqual(['a:passphrase', 'b:file']);
    await store(keychain).migrate('keychain');
    expect([...keychain.items.keys()].sort()).toEqual(['acme:b', 'nanogpt:a']);
    expect(await files()).toEqual(['accounts.json']);
    expect((await store(keychain).get('nanogpt'))?.secret).toBe(A);
    expect(await store(keychain).get('acme')).toMatchObject({
      secret: B,
      refreshToken: 'refresh-b-0123456789',
    });
  });

  it('an account that cannot be moved is reported and stays; the others move', async () => {
    await twoInTheFile();
    const outcomes = await store(memoryKeychain({ refuse: true })).migrate('keychain');
    expect(outcomes.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(await backends()).toEqual(['a:file', 'b:file']);
    expect((await store().get('nanogpt'))?.secret).toBe(A);
    // A copy that reads back differently is not trusted either.
    const garbled = await store(memoryKeychain({ garble: true })).migrate('keychain', {
      provider: 'nanogpt',
    });
    expect(garbled[0]).toMatchObject({ status: 'failed', error: { code: 'MIGRATE_VERIFY_FAILED' } });
    expect(await backends()).toEqual(['a:file', 'b:file']);
  });

  it('interrupted after the copy: the old copy is what is read; a second run finishes and leaves nothing behind', async () => {
    await twoInTheFile();
    // The index cannot be written: as if the process died right after writing the copy.
    fsHooks.rename = (from, to) => {
      if (path.basename(to) === 'accounts.json') throw Object.assign(new Error('killed'), { code: 'EIO' });
      realRename(from, to);
    };
    const first = await store().migrate('passphrase', { provider: 'nanogpt' });
    expect(first[0]).toMatchObject({ status: 'failed' });
    fsHooks.rename = realRename;
    expect(await backends()).toEqual(['a:file', 'b:file']);
    expect((await store().get('nanogpt'))?.record.backend).toBe('file');
    expect((await store().get('nanogpt'))?.secret).toBe(A);
    expect(await store().orphans()).toEqual([{ provider: 'nanogpt', account: 'a', backend: 'passphrase' }]);
    const second = await store().migrate('passphrase');
    expect(second.map((o) => o.status)).toEqual(['moved', 'moved']);
    expect(await store().orphans()).toEqual([]);
    expect(await files()).toEqual(['accounts.json', 'credentials.passphrase.enc']);
  });

  it('interrupted after the index switched: the new copy is read; the next run removes the old one', async () => {
    await twoInTheFile();
    // The old copy cannot be deleted: as if the process died after switching the index.
    fsHooks.rename = (from, to) => {
      if (path.basename(to) === 'credentials.enc') throw Object.assign(new Error('killed'), { code: 'EIO' });
      realRename(from, to);
    };
    const first = await store().migrate('passphrase', { provider: 'nanogpt' });
    fsHooks.rename = realRename;
    expect(first[0]).toMatchObject({ status: 'moved', oldCopyKept: { code: 'STORAGE_IO' } });
    expect((await store().get('nanogpt'))?.record.backend).toBe('passphrase');
    expect(await store().orphans()).toEqual([{ provider: 'nanogpt', account: 'a', backend: 'file' }]);
    const second = await store().migrate('passphrase', { provider: 'nanogpt' });
    expect(second[0]).toMatchObject({ status: 'already', leftoversRemoved: 1 });
    expect(await store().orphans()).toEqual([]);
    expect((await store().get('acme'))?.secret).toBe(B);
  });

  it('names an unknown account (exit 4, the stored names listed) and an empty store (exit 4)', async () => {
    expect(await latchkeyRejection(store().migrate('passphrase'))).toMatchObject({
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
    });
    await twoInTheFile();
    const unknown = await latchkeyRejection(
      store().migrate('passphrase', { provider: 'nanogpt', account: 'zed' }),
    );
    expect(unknown).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(unknown.action).toContain('a');
    expect(await backends()).toEqual(['a:file', 'b:file']);
  });
});
