// Several accounts per provider: the default rule of save(), setDefault, directory choices and the
// resolution order (chooseAccount, CredentialStore.choose).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { latchkeyRejection } from '@latchkey/testkit';
import { chooseAccount, CredentialStore, matchAccount, unknownAccount, type SecretBackend } from './index.js';

const KEY_A = 'nt_aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111';
const KEY_B = 'nt_bbbbbbbbbbbbbbbbbbbbbbbbbbbb2222';

let root: string;
let dir: string;

const noKeychain: SecretBackend = {
  name: 'keychain',
  get: () => Promise.reject(new Error('keychain used')),
  set: () => Promise.reject(new Error('keychain used')),
  delete: () => Promise.reject(new Error('keychain used')),
};

const store = () => new CredentialStore({ configDir: dir, preference: 'file', keychain: noKeychain });
const index = async () => JSON.parse(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8'));
const defaults = async (provider: string) =>
  (await store().list(provider)).filter((r) => r.active).map((r) => r.account);

async function twoAccounts(): Promise<CredentialStore> {
  const s = store();
  await s.save({ provider: 'nanoterm', account: 'work', secret: KEY_A });
  await s.save({ provider: 'nanoterm', account: 'home', secret: KEY_B });
  return s;
}

beforeEach(async () => {
  root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-accounts-')));
  dir = path.join(root, 'config');
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('chooseAccount', () => {
  const idx = {
    active: { nanoterm: 'default-acct' },
    directories: {
      '/w': { nanoterm: 'w-acct' },
      '/w/api': { nanoterm: 'api-acct', kaneo: 'k' },
      '/': { other: 'root-acct' },
    },
  };
  const env = { variable: 'LATCHKEY_NANOTERM_ACCOUNT', value: 'env-acct' };

  it('--account outranks the environment, directories and the default', () => {
    expect(chooseAccount(idx, 'nanoterm', { flag: 'f', envAccount: env, cwd: '/w/api' })).toEqual({
      account: 'f',
      chosenBy: 'flag',
    });
  });
  it('LATCHKEY_<ID>_ACCOUNT outranks directories, naming the variable', () => {
    expect(chooseAccount(idx, 'nanoterm', { envAccount: env, cwd: '/w/api' })).toEqual({
      account: 'env-acct',
      chosenBy: 'env',
      detail: 'LATCHKEY_NANOTERM_ACCOUNT',
    });
  });
  it('empty flag and empty variable count as not given', () => {
    const chosen = chooseAccount(idx, 'nanoterm', {
      flag: '',
      envAccount: { ...env, value: '' },
      cwd: '/elsewhere',
    });
    expect(chosen).toEqual({ account: 'default-acct', chosenBy: 'default' });
  });
  it('the nearest directory choice wins, from the directory itself or any ancestor', () => {
    expect(chooseAccount(idx, 'nanoterm', { cwd: '/w/api/src/deep' })).toEqual({
      account: 'api-acct',
      chosenBy: 'directory',
      detail: '/w/api',
    });
    expect(chooseAccount(idx, 'nanoterm', { cwd: '/w/api' })?.account).toBe('api-acct');
    expect(chooseAccount(idx, 'nanoterm', { cwd: '/w/other' })).toEqual({
      account: 'w-acct',
      chosenBy: 'directory',
      detail: '/w',
    });
    expect(chooseAccount(idx, 'other', { cwd: '/a/b' })).toEqual({
      account: 'root-acct',
      chosenBy: 'directory',
      detail: '/',
    });
  });
  it('a directory with the same prefix is not an ancestor (/w/apis is not under /w/api)', () => {
    expect(chooseAccount(idx, 'nanoterm', { cwd: '/w/apis' })?.account).toBe('w-acct');
  });
  it("another provider's directory choice does not apply; the default does", () => {
    expect(chooseAccount(idx, 'nanoterm', { cwd: '/x' })).toEqual({
      account: 'default-acct',
      chosenBy: 'default',
    });
  });
  it('undefined when nothing applies (no default, no index directories), relative cwd resolved', () => {
    expect(chooseAccount({ active: {} }, 'nanoterm', { cwd: 'rel/dir' })).toBeUndefined();
    expect(chooseAccount({ active: {}, directories: {} }, 'toString', { cwd: '/' })).toBeUndefined(); // no prototype keys
  });
});

describe('unknownAccount', () => {
  it('exit 4, ACCOUNT_NOT_FOUND, names the account and lists the stored ones', () => {
    const error = unknownAccount('NanoTerm', 'wrok', ['work', 'home']);
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.message).toBe("No NanoTerm account named 'wrok' is stored.");
    expect(error.action).toBe('Use one of: home, work (`latchkey auth status` shows them).');
  });
  it('says to sign in when none is stored', () => {
    expect(unknownAccount('nanoterm', 'x', []).action).toMatch(/No nanoterm account is stored: sign in/);
  });
  it('no provider named: the message says so in plain words', () => {
    const error = unknownAccount(undefined, 'laptop', ['work']);
    expect(error.message).toBe("No account named 'laptop' is stored for any provider.");
    expect(unknownAccount(undefined, 'laptop', []).action).toMatch(/^No account is stored: sign in/);
  });
});

describe('save: which account is the default', () => {
  it('the first account becomes the default; a second does not, unless makeDefault', async () => {
    const s = store();
    const first = await s.save({ provider: 'nanoterm', account: 'work', secret: KEY_A });
    expect([first.replaced, first.isDefault]).toEqual([false, true]);
    const second = await s.save({ provider: 'nanoterm', account: 'home', secret: KEY_B });
    expect([second.replaced, second.isDefault]).toEqual([false, false]);
    expect(await defaults('nanoterm')).toEqual(['work']);
    expect((await s.get('nanoterm'))?.secret).toBe(KEY_A);
    const made = await s.save({ provider: 'nanoterm', account: 'home', secret: KEY_B, makeDefault: true });
    expect([made.replaced, made.isDefault]).toEqual([true, true]);
    expect(await defaults('nanoterm')).toEqual(['home']);
  });
  it('replacing the default keeps it the default; replacing another does not change the default', async () => {
    const s = await twoAccounts();
    const replacedDefault = await s.save({ provider: 'nanoterm', account: 'work', secret: KEY_B });
    expect([replacedDefault.replaced, replacedDefault.isDefault]).toEqual([true, true]);
    const replacedOther = await s.save({ provider: 'nanoterm', account: 'home', secret: KEY_A });
    expect([replacedOther.replaced, replacedOther.isDefault]).toEqual([true, false]);
    expect(await defaults('nanoterm')).toEqual(['work']);
  });
  it("another provider's default does not count: the first account of each provider is its default", async () => {
    const s = await twoAccounts();
    const kaneo = await s.save({ provider: 'kaneo', account: 'k', secret: 'kaneo-secret-1234' });
    expect(kaneo.isDefault).toBe(true);
    expect((await index()).active).toEqual({ nanoterm: 'work', kaneo: 'k' });
  });
  it('a default naming a removed record (hand-edited index) is replaced by the next save', async () => {
    const s = store();
    await s.save({ provider: 'nanoterm', account: 'work', secret: KEY_A });
    const doc = await index();
    await fs.writeFile(
      path.join(dir, 'accounts.json'),
      JSON.stringify({ ...doc, active: { nanoterm: 'gone' } }),
    );
    expect((await s.save({ provider: 'nanoterm', account: 'home', secret: KEY_B })).isDefault).toBe(true);
  });
});

describe('setDefault', () => {
  it('makes a stored account the default and returns its record; the index stays version 1', async () => {
    const s = await twoAccounts();
    const record = await s.setDefault('nanoterm', 'home');
    expect(record).toMatchObject({ provider: 'nanoterm', account: 'home', backend: 'file' });
    expect((await s.get('nanoterm'))?.secret).toBe(KEY_B);
    const doc = await index();
    expect(doc.version).toBe(1);
    expect(doc.active).toEqual({ nanoterm: 'home' });
    expect(doc).not.toHaveProperty('directories'); // none chosen: written as before
  });
  it('an unknown account: ACCOUNT_NOT_FOUND (exit 4) listing the stored names, index unchanged', async () => {
    const s = await twoAccounts();
    const before = await fs.readFile(path.join(dir, 'accounts.json'), 'utf8');
    const error = await latchkeyRejection(s.setDefault('nanoterm', 'nobody'));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.action).toContain('home, work');
    expect(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8')).toBe(before);
  });
  it('nothing stored: ACCOUNT_NOT_FOUND and no config directory is created', async () => {
    const error = await latchkeyRejection(store().setDefault('nanoterm', 'work'));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('invalid provider id: usage error', async () => {
    await expect(store().setDefault('../x', 'work')).rejects.toMatchObject({ exitCode: 2 });
  });
  it('concurrent switches and saves lose nothing (all under the lock)', async () => {
    const s = await twoAccounts();
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => s.setDefault('nanoterm', i % 2 ? 'home' : 'work')),
      ...Array.from({ length: 5 }, (_, i) =>
        store().save({ provider: 'kaneo', account: `k${i}`, secret: `kaneo-secret-${i}xxxx` }),
      ),
    ]);
    expect((await s.list('kaneo')).length).toBe(5);
    expect(['home', 'work']).toContain((await index()).active.nanoterm);
  });
});

describe('directory choices', () => {
  it('records the choice for the real path of an existing directory; choose() finds it below', async () => {
    const s = await twoAccounts();
    const project = path.join(root, 'project');
    await fs.mkdir(path.join(project, 'src'), { recursive: true });
    const link = path.join(root, 'link');
    await fs.symlink(project, link);
    await s.setDirectoryChoice('nanoterm', link, 'home');
    expect((await index()).directories).toEqual({ [project]: { nanoterm: 'home' } });
    expect(await s.directoryChoices()).toEqual([{ provider: 'nanoterm', dir: project, account: 'home' }]);
    expect(await s.choose('nanoterm', { cwd: path.join(project, 'src') })).toMatchObject({
      record: { account: 'home' },
      chosenBy: 'directory',
      detail: project,
    });
    expect(await s.choose('nanoterm', { cwd: root })).toMatchObject({
      record: { account: 'work' },
      chosenBy: 'default',
    });
  });
  it('a directory that does not exist (yet) is recorded as its absolute path', async () => {
    const s = await twoAccounts();
    const cwd = process.cwd();
    await s.setDirectoryChoice('nanoterm', 'not-there', 'home');
    expect(Object.keys((await index()).directories)).toEqual([path.join(cwd, 'not-there')]);
  });
  it('undefined removes the choice; an empty directory entry is not kept', async () => {
    const s = await twoAccounts();
    await s.setDirectoryChoice('nanoterm', root, 'home');
    await s.setDirectoryChoice('kaneo-like', root, undefined); // nothing to remove: fine
    await s.setDirectoryChoice('nanoterm', root, undefined);
    expect(await index()).not.toHaveProperty('directories');
    expect(await s.directoryChoices('nanoterm')).toEqual([]);
  });
  it('removing a choice with nothing stored creates nothing', async () => {
    await store().setDirectoryChoice('nanoterm', root, undefined);
    await expect(fs.stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
  it('an unknown account: ACCOUNT_NOT_FOUND, nothing recorded', async () => {
    const s = await twoAccounts();
    const error = await latchkeyRejection(s.setDirectoryChoice('nanoterm', root, 'nobody'));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(await index()).not.toHaveProperty('directories');
  });
  it('directoryChoices filters by provider and sorts', async () => {
    const s = await twoAccounts();
    await s.save({ provider: 'kaneo', account: 'k', secret: 'kaneo-secret-1234' });
    const b = path.join(root, 'b');
    const a = path.join(root, 'a');
    await s.setDirectoryChoice('nanoterm', b, 'home');
    await s.setDirectoryChoice('nanoterm', a, 'work');
    await s.setDirectoryChoice('kaneo', a, 'k');
    expect(await s.directoryChoices('nanoterm')).toEqual([
      { provider: 'nanoterm', dir: a, account: 'work' },
      { provider: 'nanoterm', dir: b, account: 'home' },
    ]);
    expect((await s.directoryChoices()).map((c) => c.provider)).toEqual(['kaneo', 'nanoterm', 'nanoterm']);
  });
  it("removing an account removes its directory choices, not other accounts' or providers'", async () => {
    const s = await twoAccounts();
    await s.save({ provider: 'kaneo', account: 'home', secret: 'kaneo-secret-1234' });
    await s.setDirectoryChoice('nanoterm', path.join(root, 'a'), 'home');
    await s.setDirectoryChoice('nanoterm', path.join(root, 'b'), 'work');
    await s.setDirectoryChoice('kaneo', path.join(root, 'a'), 'home');
    await s.remove('nanoterm', 'home');
    expect((await index()).directories).toEqual({
      [path.join(root, 'a')]: { kaneo: 'home' },
      [path.join(root, 'b')]: { nanoterm: 'work' },
    });
  });
});

describe('choose and chooseCredential', () => {
  it('flag, env and default, each with its reason; chooseCredential adds the secret', async () => {
    const s = await twoAccounts();
    expect(await s.choose('nanoterm', { flag: 'home', cwd: root })).toMatchObject({
      record: { account: 'home' },
      chosenBy: 'flag',
    });
    const env = { variable: 'LATCHKEY_NANOTERM_ACCOUNT', value: 'home' };
    const chosen = await s.chooseCredential('nanoterm', { envAccount: env, cwd: root });
    expect(chosen).toMatchObject({
      secret: KEY_B,
      record: { account: 'home' },
      chosenBy: 'env',
      detail: 'LATCHKEY_NANOTERM_ACCOUNT',
    });
    expect(await s.chooseCredential('nanoterm', { cwd: root })).toMatchObject({
      secret: KEY_A,
      chosenBy: 'default',
    });
    expect(chosen).not.toHaveProperty('account');
  });
  it('a named account that is not stored: ACCOUNT_NOT_FOUND listing the names (flag, env, directory)', async () => {
    const s = await twoAccounts();
    for (const options of [
      { flag: 'nobody', cwd: root },
      { envAccount: { variable: 'LATCHKEY_NANOTERM_ACCOUNT', value: 'nobody' }, cwd: root },
    ]) {
      const error = await latchkeyRejection(s.chooseCredential('nanoterm', options));
      expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
      expect(error.action).toContain('home, work');
    }
    // A choice naming an account that is gone (edited by hand): the same error, not another account.
    const doc = await index();
    await fs.writeFile(
      path.join(dir, 'accounts.json'),
      JSON.stringify({ ...doc, directories: { [root]: { nanoterm: 'gone' } } }),
    );
    await expect(s.choose('nanoterm', { cwd: root })).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
  });
  it('--account with nothing stored for the provider is ACCOUNT_NOT_FOUND too', async () => {
    await expect(store().choose('nanoterm', { flag: 'x', cwd: root })).rejects.toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      exitCode: 4,
    });
  });
  it('undefined when nothing is stored, or the default names no record', async () => {
    expect(await store().choose('nanoterm', { cwd: root })).toBeUndefined();
    const s = await twoAccounts();
    const doc = await index();
    await fs.writeFile(
      path.join(dir, 'accounts.json'),
      JSON.stringify({ ...doc, active: { nanoterm: 'gone' } }),
    );
    expect(await s.chooseCredential('nanoterm', { cwd: root })).toBeUndefined();
  });
});

describe('the index with directories', () => {
  it('an index without "directories" (older latchkey) is read as no choices', async () => {
    const s = await twoAccounts();
    expect(await index()).not.toHaveProperty('directories');
    expect(await s.directoryChoices()).toEqual([]);
  });
  it.each([
    ['not an object', []],
    ['a relative directory', { 'rel/dir': { nanoterm: 'work' } }],
    ['a non-string account', { '/abs': { nanoterm: 1 } }],
    ['choices not an object', { '/abs': 'work' }],
  ])('"directories" with %s: STORAGE_CORRUPT, bytes unchanged', async (_what, directories) => {
    const s = await twoAccounts();
    const bad = JSON.stringify({ ...(await index()), directories });
    await fs.writeFile(path.join(dir, 'accounts.json'), bad);
    await expect(s.choose('nanoterm', { cwd: root })).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    await expect(s.setDefault('nanoterm', 'home')).rejects.toMatchObject({ code: 'STORAGE_CORRUPT' });
    expect(await fs.readFile(path.join(dir, 'accounts.json'), 'utf8')).toBe(bad);
  });
});

describe('matchAccount: what a typed account name means', () => {
  const names = ['sk-nano-\u2026c906', 'sk-nano-...a1b2', 'work', 'homework', 'nt_live_...9999', 'x_...9999'];
  it.each([
    ['the name itself', 'work', 'work'],
    ['an old label (Unicode ellipsis) typed with three dots', 'sk-nano-...c906', 'sk-nano-\u2026c906'],
    ['a new label typed with the Unicode ellipsis', 'sk-nano-\u2026a1b2', 'sk-nano-...a1b2'],
    ['the last 4 of a key, when one name ends with them', 'c906', 'sk-nano-\u2026c906'],
    ['the last 4 with the ellipsis', '...a1b2', 'sk-nano-...a1b2'],
    ['an exact name wins over a name that ends with it', 'work', 'work'],
  ])('%s', (_, typed, expected) => {
    expect(matchAccount(typed, names)).toBe(expected);
  });
  it.each([
    ['a suffix two names end with', '9999'],
    ['a suffix under 4 characters', '906'],
    ['no such name', 'laptop'],
    ['an empty name', ''],
  ])('none for %s', (_, typed) => {
    expect(matchAccount(typed, names)).toBeUndefined();
  });
});
