/**
 * The pass backend's pure parts, in milliseconds: entry names for any account, listing a store from its
 * file names, refusing entries latchkey did not write, and gpg's failures in words. The real pass, gpg and
 * git run in the CLI's pass.e2e.test.ts; the store's use of the listing (the store is the index) runs here
 * with entries made by hand (listing decrypts nothing).
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialStore } from '../index.js';
import { parseEntry, passFailure } from './pass-backend.js';
import {
  decodeAccount,
  encodeAccount,
  listPassEntries,
  passEntryName,
  passStoreDir,
} from './pass-entries.js';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'latchkey-pass-unit-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const entryText = (secret: string, meta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  `${secret}\nlatchkey: ${JSON.stringify({ v: 2, secret, baseUrl: 'https://x.example', ...extra, account: meta })}\n`;

describe('pass entry names', () => {
  it('keep account names readable and round-trip the ones a path cannot hold as they are', () => {
    expect(passEntryName('nanogpt', 'alice@example.com')).toBe('latchkey/nanogpt/alice@example.com');
    expect(passEntryName('nanogpt', 'sk-nano-…a1b2')).toBe('latchkey/nanogpt/sk-nano-…a1b2');
    for (const account of ['a/b', '.hidden', '100%', 'back\\slash', 'with space', '..', '%2F']) {
      const segment = encodeAccount(account);
      expect(segment, account).not.toMatch(/[/\\]|^\./);
      expect(decodeAccount(segment), account).toBe(account);
    }
    // Names latchkey would not write are not accounts.
    expect(decodeAccount('%zz')).toBeUndefined();
    expect(decodeAccount('%2f')).toBeUndefined();
    expect(decodeAccount('')).toBeUndefined();
  });

  it('the store is PASSWORD_STORE_DIR, else the recorded one, else ~/.password-store', () => {
    expect(passStoreDir({ PASSWORD_STORE_DIR: '/team/store', HOME: '/h' }, '/recorded')).toBe('/team/store');
    expect(passStoreDir({ HOME: '/h' }, '/recorded')).toBe('/recorded');
    expect(passStoreDir({ HOME: '/h' })).toBe('/h/.password-store');
  });

  it('lists latchkey/<provider>/<account>.gpg files only, without decrypting anything', async () => {
    const store = path.join(root, 'store');
    for (const name of [
      'latchkey/nanogpt/alice.gpg',
      'latchkey/nanogpt/a%2Fb.gpg',
      'latchkey/acme/bot.gpg',
    ]) {
      await fs.mkdir(path.dirname(path.join(store, name)), { recursive: true });
      await fs.writeFile(path.join(store, name), 'not even gpg');
    }
    await fs.writeFile(path.join(store, 'latchkey/nanogpt/notes.txt'), '');
    await fs.mkdir(path.join(store, 'latchkey/-bad'), { recursive: true });
    await fs.writeFile(path.join(store, 'latchkey/-bad/x.gpg'), '');
    await fs.writeFile(path.join(store, 'personal.gpg'), '');
    expect(listPassEntries(store).map((r) => `${r.provider}/${r.account}`)).toEqual([
      'acme/bot',
      'nanogpt/a/b',
      'nanogpt/alice',
    ]);
    expect(listPassEntries(path.join(root, 'nowhere'))).toEqual([]);
  });
});

describe('pass entries latchkey wrote, and the ones it did not', () => {
  const meta = {
    provider: 'nanogpt',
    account: 'bot',
    createdAt: '2026-01-01T00:00:00.000Z',
    method: 'token',
  };

  it('reads the secret, its binding and the record', () => {
    const entry = parseEntry(entryText('sk-1', meta, { refresh: 'rt-1' }), 'nanogpt', 'bot', '/s/bot.gpg');
    expect(entry).toMatchObject({
      secret: 'sk-1',
      baseUrl: 'https://x.example',
      refreshToken: 'rt-1',
      record: { ...meta, backend: 'pass', baseUrl: 'https://x.example' },
    });
  });

  it.each([
    ['a bare token (pass insert by hand)', 'sk-1\n', 'it has no latchkey line'],
    [
      'another first line',
      entryText('sk-1', meta).replace(/^sk-1/, 'sk-2'),
      'its secret and its latchkey line disagree',
    ],
    ['another account', entryText('sk-1', { ...meta, account: 'other' }), "it names nanogpt account 'other'"],
    ['another provider', entryText('sk-1', { ...meta, provider: 'acme' }), "it names acme account 'bot'"],
    [
      'no record',
      entryText('sk-1', { provider: 'nanogpt' }),
      'its account record is not what latchkey writes',
    ],
    ['not JSON', 'sk-1\nlatchkey: {nope\n', 'its latchkey line is not JSON'],
  ])('refuses %s: STORAGE_TAMPERED, exit 1', (_what, text, why) => {
    let error: { code?: string; exitCode?: number; message?: string } = {};
    try {
      parseEntry(text, 'nanogpt', 'bot', '/s/latchkey/nanogpt/bot.gpg');
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ code: 'STORAGE_TAMPERED', exitCode: 1 });
    expect(error.message).toContain(why);
    expect(error.message).not.toContain('sk-1');
  });
});

describe("gpg's failures in words", () => {
  const run = (stderr: string, code = 2) => ({ code, stdout: '', stderr });
  const failed =
    '[GNUPG:] BEGIN_DECRYPTION\n[GNUPG:] DECRYPTION_FAILED\ngpg: decryption failed: No secret key\n';

  it('tells a locked key, an absent agent and a missing recipient apart', () => {
    const locked = passFailure(
      '/s',
      run(`[GNUPG:] ENC_TO 1 1 0\n[GNUPG:] KEY_CONSIDERED ABC 0\n[GNUPG:] PINENTRY_LAUNCHED 1\n${failed}`),
      'read latchkey/p/a',
      'latchkey/p/a',
    );
    expect(locked).toMatchObject({ code: 'PASS_LOCKED', exitCode: 1 });
    expect(locked.action).toContain('pass show latchkey/p/a');
    const agent = passFailure(
      '/s',
      run(`[GNUPG:] ENC_TO 1 1 0\ngpg: no gpg-agent running in this session\n${failed}`),
      'read latchkey/p/a',
      'latchkey/p/a',
    );
    expect(agent).toMatchObject({ code: 'PASS_AGENT', exitCode: 1 });
    const removed = passFailure(
      '/s',
      run(`[GNUPG:] ENC_TO 1 1 0\n${failed}`),
      'read latchkey/p/a',
      'latchkey/p/a',
    );
    expect(removed).toMatchObject({ code: 'PASS_NOT_RECIPIENT', exitCode: 4 });
    expect(removed.message).toContain("removed from the store's .gpg-id");
  });

  it("a store without .gpg-id, pass not installed, and anything else with pass's own line (sanitized)", () => {
    expect(
      passFailure('/s', run('Error: You must run:\n    pass init your-gpg-id\n', 1), 'write x', 'x').code,
    ).toBe('PASS_UNAVAILABLE');
    expect(passFailure('/s', run('', 127), 'read x', 'x').code).toBe('PASS_UNAVAILABLE');
    const other = passFailure(
      '/s',
      run('Error: something \u001b[31mred\u001b[0m happened\n', 1),
      'write x',
      'x',
    );
    expect(other.code).toBe('PASS_ERROR');
    expect(other.message).toContain('Error: something');
    expect(other.message).not.toContain('\u001b');
  });
});

describe('the store is the index', () => {
  it('with LATCHKEY_STORAGE=pass, the entries are accounts of a config directory that never stored one', async () => {
    const store = path.join(root, 'store');
    await fs.mkdir(path.join(store, 'latchkey/nanogpt'), { recursive: true });
    for (const name of ['work', 'bot'])
      await fs.writeFile(path.join(store, `latchkey/nanogpt/${name}.gpg`), '');
    const config = path.join(root, 'config');
    const env = { PASSWORD_STORE_DIR: store, HOME: root };
    const pass = new CredentialStore({ configDir: config, preference: 'pass', env });
    expect((await pass.list()).map((r) => [r.account, r.backend, r.store, r.active])).toEqual([
      ['bot', 'pass', store, true],
      ['work', 'pass', store, false],
    ]);
    // The default is a personal choice: kept in this config directory, nothing written to the store.
    await pass.setDefault('nanogpt', 'work');
    const index = JSON.parse(await fs.readFile(path.join(config, 'accounts.json'), 'utf8'));
    expect(index).toMatchObject({ accounts: [], active: { nanogpt: 'work' } });
    expect((await pass.choose('nanogpt', { cwd: root }))?.record.account).toBe('work');
    // Without pass in use the store is not looked at.
    const other = new CredentialStore({ configDir: path.join(root, 'other'), preference: 'file', env });
    expect(await other.list()).toEqual([]);
  });
});
