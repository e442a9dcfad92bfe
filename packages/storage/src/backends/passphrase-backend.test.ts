/**
 * The passphrase file through `CredentialStore`, as `auth login/token/logout` and `auth passphrase` use it:
 * a key from scrypt (parameters in the file, a floor, tunable upward), no key on disk, the passphrase from
 * LATCHKEY_FILE_PASSPHRASE or an asker, a wrong one exit 4 with nothing changed, a change re-encrypting
 * everything in one atomic write. Most tests derive at the floor (N = 2^15) to stay quick.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { CredentialStore, type PassphraseAsker, type SecretBackend } from '../index.js';

const SECRET_A = 'sk-nano-0b7c7d64aaaabbbbccccdddd';
const SECRET_B = 'sk-nano-1111222233334444deadbeef';
const PASSPHRASE = 'correct horse battery staple';
const FLOOR = { LATCHKEY_FILE_SCRYPT_N: String(2 ** 15) };

let root: string;
let dir: string;
let file: string;

const noKeychain: SecretBackend = {
  name: 'keychain',
  get: () => Promise.reject(new Error('keychain used')),
  set: () => Promise.reject(new Error('keychain used')),
  delete: () => Promise.reject(new Error('keychain used')),
};

function store(env: NodeJS.ProcessEnv = {}, askPassphrase?: PassphraseAsker): CredentialStore {
  return new CredentialStore({
    configDir: dir,
    preference: 'passphrase',
    keychain: noKeychain,
    env: { LATCHKEY_FILE_PASSPHRASE: PASSPHRASE, ...FLOOR, ...env },
    ...(askPassphrase && { askPassphrase }),
  });
}

const readDoc = async () => JSON.parse(await fs.readFile(file, 'utf8'));

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-passphrase-'));
  dir = path.join(root, 'config');
  file = path.join(dir, 'credentials.passphrase.enc');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('passphrase file backend', () => {
  it('stores with a key derived from the passphrase: no key file, no plaintext, scrypt parameters in the file', async () => {
    await store().save({
      provider: 'nanogpt',
      account: 'alice',
      secret: SECRET_A,
      baseUrl: 'https://x.example',
    });
    expect((await fs.readdir(dir)).sort()).toEqual(['accounts.json', 'credentials.passphrase.enc']);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    for (const name of await fs.readdir(dir)) {
      const bytes = await fs.readFile(path.join(dir, name));
      expect(bytes.includes(Buffer.from(SECRET_A.slice(8))), name).toBe(false);
      expect(bytes.includes(Buffer.from(PASSPHRASE)), name).toBe(false);
    }
    const doc = await readDoc();
    expect(doc.kdf).toMatchObject({ name: 'scrypt', N: 2 ** 15, r: 8, p: 1 });
    expect(Buffer.from(doc.kdf.salt, 'base64')).toHaveLength(16);
    expect(Object.keys(doc.entries)).toEqual(['nanogpt:alice']);
    const index = JSON.parse(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8'));
    expect(index.accounts[0]).toMatchObject({ account: 'alice', backend: 'passphrase' });
    // Another process (a new store) reads it with the same passphrase.
    expect((await store().get('nanogpt'))?.secret).toBe(SECRET_A);
  });

  it('a new file gets the default cost (N = 2^17, r = 8, p = 1) when LATCHKEY_FILE_SCRYPT_N is not set', async () => {
    await store({ LATCHKEY_FILE_SCRYPT_N: '' }).save({ provider: 'p', account: 'a', secret: SECRET_A });
    expect((await readDoc()).kdf).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
  }, 30_000);

  it('a wrong passphrase is exit 4 on read and on write, and the file is byte for byte as it was', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    const before = await fs.readFile(file);
    const wrong = { LATCHKEY_FILE_PASSPHRASE: 'not the passphrase' };
    const read = await latchkeyRejection(store(wrong).get('p'));
    expect(read).toMatchObject({ code: 'PASSPHRASE_WRONG', exitCode: 4 });
    expect(read.message).toBe(`LATCHKEY_FILE_PASSPHRASE does not open ${file}; nothing was changed.`);
    const write = await latchkeyRejection(
      store(wrong).save({ provider: 'p', account: 'b', secret: SECRET_B }),
    );
    expect(write).toMatchObject({ code: 'PASSPHRASE_WRONG', exitCode: 4 });
    expect(await fs.readFile(file)).toEqual(before);
    expect((await store().list()).map((r) => r.account)).toEqual(['a']);
    const change = await latchkeyRejection(
      store({ ...wrong, LATCHKEY_FILE_NEW_PASSPHRASE: 'another passphrase' }).changePassphrase(),
    );
    expect(change).toMatchObject({ code: 'PASSPHRASE_WRONG', exitCode: 4 });
    expect(await fs.readFile(file)).toEqual(before);
  });

  it('without the variable and without a terminal it is a usage error naming both', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    const error = await latchkeyRejection(store({ LATCHKEY_FILE_PASSPHRASE: '' }).get('p'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('needs its passphrase, and there is no terminal to ask it on');
    expect(error.action).toContain('Set LATCHKEY_FILE_PASSPHRASE');
    expect(error.action).toContain('in a terminal');
    const create = await latchkeyRejection(
      new CredentialStore({ configDir: path.join(root, 'other'), preference: 'passphrase', env: {} }).save({
        provider: 'p',
        account: 'a',
        secret: SECRET_A,
      }),
    );
    expect(create.exitCode).toBe(2);
    expect(await fs.readdir(path.join(root, 'other'))).not.toContain('credentials.passphrase.enc');
  });

  it('asks for a new passphrase to create the file and for the passphrase once per process after that', async () => {
    const asked: string[] = [];
    const ask: PassphraseAsker = async (purpose) => {
      asked.push(purpose);
      return PASSPHRASE;
    };
    const noEnv = { LATCHKEY_FILE_PASSPHRASE: '' };
    await store(noEnv, ask).save({ provider: 'p', account: 'a', secret: SECRET_A });
    expect(asked).toEqual(['new']);
    asked.length = 0;
    const reader = store(noEnv, ask);
    await reader.save({ provider: 'p', account: 'b', secret: SECRET_B });
    expect((await reader.get('p', 'a'))?.secret).toBe(SECRET_A);
    expect((await reader.get('p', 'b'))?.secret).toBe(SECRET_B);
    expect(asked).toEqual(['unlock']);
    // The variable wins over asking.
    asked.length = 0;
    expect((await store({}, ask).get('p', 'a'))?.secret).toBe(SECRET_A);
    expect(asked).toEqual([]);
  });

  it('refuses a new passphrase shorter than 8 characters (exit 2), creating nothing', async () => {
    const error = await latchkeyRejection(
      store({ LATCHKEY_FILE_PASSPHRASE: 'abc1234' }).save({ provider: 'p', account: 'a', secret: SECRET_A }),
    );
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('at least 8 characters');
    expect(error.message).not.toContain('abc1234');
    await expect(fs.access(file)).rejects.toThrow();
  });

  it('changes the passphrase: every entry re-encrypted under a new salt; the old one stops working', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store().save({ provider: 'q', account: 'b', secret: SECRET_B });
    const before = await readDoc();
    const next = 'a brand new passphrase';
    expect(await store({ LATCHKEY_FILE_NEW_PASSPHRASE: next }).changePassphrase()).toEqual({
      entries: 2,
      params: { N: 2 ** 15, r: 8, p: 1 },
    });
    const after = await readDoc();
    expect(after.kdf.salt).not.toBe(before.kdf.salt);
    expect(Object.keys(after.entries).sort()).toEqual(['p:a', 'q:b']);
    expect(await latchkeyRejection(store().get('p'))).toMatchObject({ code: 'PASSPHRASE_WRONG' });
    const renewed = store({ LATCHKEY_FILE_PASSPHRASE: next });
    expect((await renewed.get('p'))?.secret).toBe(SECRET_A);
    expect((await renewed.get('q'))?.secret).toBe(SECRET_B);
  });

  it('changing needs a new passphrase from LATCHKEY_FILE_NEW_PASSPHRASE or a terminal, and a file', async () => {
    const none = await latchkeyRejection(store().changePassphrase());
    expect(none).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4 });
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    const before = await fs.readFile(file);
    const error = await latchkeyRejection(store().changePassphrase());
    expect(error.exitCode).toBe(2);
    expect(error.action).toContain('LATCHKEY_FILE_NEW_PASSPHRASE');
    expect(await fs.readFile(file)).toEqual(before);
  });

  it('LATCHKEY_FILE_SCRYPT_N tunes the cost from the floor up: a write re-encrypts with it, below the floor is exit 2', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store({ LATCHKEY_FILE_SCRYPT_N: String(2 ** 16) }).save({
      provider: 'p',
      account: 'b',
      secret: SECRET_B,
    });
    expect((await readDoc()).kdf.N).toBe(2 ** 16);
    // Reading does not need the variable: the parameters are in the file.
    expect((await store({ LATCHKEY_FILE_SCRYPT_N: '' }).get('p', 'a'))?.secret).toBe(SECRET_A);
    for (const bad of [String(2 ** 14), '40000', 'lots', String(2 ** 21)]) {
      const error = await latchkeyRejection(
        store({ LATCHKEY_FILE_SCRYPT_N: bad }).save({ provider: 'p', account: 'c', secret: SECRET_A }),
      );
      expect(error.exitCode, bad).toBe(2);
      expect(error.message).toContain('LATCHKEY_FILE_SCRYPT_N');
    }
  });

  it('refuses a file whose parameters are below the floor or beyond the ceiling, before deriving anything', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    const doc = await readDoc();
    for (const kdf of [
      { ...doc.kdf, N: 2 ** 10 },
      { ...doc.kdf, r: 1 },
      { ...doc.kdf, N: 2 ** 24 },
      { ...doc.kdf, p: 64 },
      { ...doc.kdf, name: 'pbkdf2' },
    ]) {
      await fs.writeFile(file, JSON.stringify({ ...doc, kdf }), { mode: 0o600 });
      const error = await latchkeyRejection(store().get('p'));
      expect(error.code, JSON.stringify(kdf)).toBe('STORAGE_CORRUPT');
    }
  });

  it('an entry that was changed, or moved to another account, is STORAGE_CORRUPT; the others still read', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store().save({ provider: 'p', account: 'b', secret: SECRET_B });
    const doc = await readDoc();
    doc.entries['p:a'] = doc.entries['p:b'];
    await fs.writeFile(file, JSON.stringify(doc), { mode: 0o600 });
    expect(await latchkeyRejection(store().get('p', 'a'))).toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect((await store().get('p', 'b'))?.secret).toBe(SECRET_B);
  });

  it('is refused when others can read it (STORAGE_INSECURE), before any passphrase is asked', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    await fs.chmod(file, 0o644);
    let asked = false;
    const error = await latchkeyRejection(
      store({ LATCHKEY_FILE_PASSPHRASE: '' }, async () => {
        asked = true;
        return PASSPHRASE;
      }).get('p'),
    );
    expect(error.code).toBe('STORAGE_INSECURE');
    expect(asked).toBe(false);
  });

  it('logging out the last account deletes the file; an orphaned entry is found without the passphrase', async () => {
    await store().save({ provider: 'p', account: 'a', secret: SECRET_A });
    await store().save({ provider: 'p', account: 'b', secret: SECRET_B });
    // An interrupted write: an entry with no record.
    const index = JSON.parse(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8'));
    index.accounts = index.accounts.filter((r: { account: string }) => r.account !== 'b');
    await fs.writeFile(path.join(dir, 'accounts.json'), JSON.stringify(index), { mode: 0o600 });
    const noPassphrase = store({ LATCHKEY_FILE_PASSPHRASE: '' });
    expect(await noPassphrase.orphans()).toEqual([{ provider: 'p', account: 'b', backend: 'passphrase' }]);
    expect(await noPassphrase.removeOrphans()).toEqual([
      { provider: 'p', account: 'b', backend: 'passphrase' },
    ]);
    expect(Object.keys((await readDoc()).entries)).toEqual(['p:a']);
    await noPassphrase.remove('p', 'a');
    expect(await fs.readdir(dir)).not.toContain('credentials.passphrase.enc');
  });
});
