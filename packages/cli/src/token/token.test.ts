/**
 * `auth token`'s lookup with fakes only: --account, the environment, LATCHKEY_<ID>_ACCOUNT, the directory
 * choice, then the stored default account; nothing
 * found is exit 4; several candidates are a question in a terminal and a usage error in a pipe. No
 * provider code runs and nothing reaches a server.
 */
import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeHosts, fakeProvider, rejection } from '../testing/fake-host.js';
import { resolveToken } from './token.js';

const start = fakeHosts();

const acme = () => fakeProvider({ id: 'acme', title: 'Acme' }, { accounts: {} });
const beta = () => fakeProvider({ id: 'beta', title: 'Beta' }, { accounts: {} });

describe('auth token: where the token comes from', () => {
  const cases: Array<{
    name: string;
    env?: Record<string, string>;
    stored?: Array<[string, string, string]>;
    requested?: string;
    token: string;
    source: string;
  }> = [
    {
      name: "the provider's own variable wins over the stored account",
      env: { ACME_API_KEY: 'from-env' },
      stored: [['acme', 'ada', 'from-store']],
      requested: 'acme',
      token: 'from-env',
      source: 'env:ACME_API_KEY',
    },
    {
      name: 'LATCHKEY_<ID>_TOKEN counts as an environment credential',
      env: { LATCHKEY_ACME_TOKEN: 'from-latchkey-env' },
      stored: [['acme', 'ada', 'from-store']],
      requested: 'acme',
      token: 'from-latchkey-env',
      source: 'env:LATCHKEY_ACME_TOKEN',
    },
    {
      name: "the provider's own variable comes before LATCHKEY_<ID>_TOKEN",
      env: { LATCHKEY_ACME_TOKEN: 'second', ACME_API_KEY: 'first' },
      requested: 'acme',
      token: 'first',
      source: 'env:ACME_API_KEY',
    },
    {
      name: 'the stored default account (the first login; a second one does not take over)',
      stored: [
        ['acme', 'ada', 'ada-token'],
        ['acme', 'grace', 'grace-token'],
      ],
      requested: 'acme',
      token: 'ada-token',
      source: 'stored:file',
    },
    {
      name: 'without --provider, the only provider with a credential',
      stored: [['beta', 'ada', 'beta-token']],
      token: 'beta-token',
      source: 'stored:file',
    },
    {
      name: 'without --provider, an environment credential makes its provider the only candidate',
      env: { BETA_API_KEY: 'beta-env' },
      token: 'beta-env',
      source: 'env:BETA_API_KEY',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const providers = [acme(), beta()];
      const h = await start({ providers, env: c.env });
      for (const [provider, account, secret] of c.stored ?? [])
        await h.store.save({ provider, account, secret });
      const result = await resolveToken(h.runtime, c.requested);
      expect({ provider: result.provider, token: result.token, source: result.source }).toEqual({
        provider: result.provider,
        token: c.token,
        source: c.source,
      });
      // No provider code, no request, no prompt, and nothing printed by the lookup itself.
      expect(providers.flatMap((p) => p.calls)).toEqual([]);
      expect(h.prompts).toEqual([]);
      expect(h.stdout() + h.stderr()).toBe('');
    });
  }
});

describe('auth token: nothing, or more than one', () => {
  it('not signed in to the requested provider: exit 4 naming every variable', async () => {
    const h = await start({ providers: [acme()] });
    const error = await rejection(resolveToken(h.runtime, 'acme'));
    expect(error).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4, message: 'Not signed in to Acme.' });
    expect(error.action).toBe(
      'Run `latchkey auth login --provider acme` or set ACME_API_KEY or LATCHKEY_ACME_TOKEN.',
    );
  });

  it('no credential anywhere and no --provider: exit 4', async () => {
    const h = await start({ providers: [acme(), beta()] });
    const error = await rejection(resolveToken(h.runtime));
    expect(error).toMatchObject({
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'Not signed in to any provider.',
    });
  });

  it('an unknown --provider: exit 2', async () => {
    const h = await start({ providers: [acme()] });
    const error = await rejection(resolveToken(h.runtime, 'nope'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('Unknown provider "nope".');
    expect(error.action).toBe('Choose one of: acme; `latchkey auth providers` lists them.');
  });

  it('a --provider one typo away: exit 2 with a did-you-mean', async () => {
    const h = await start({ providers: [acme(), beta()] });
    const error = await rejection(resolveToken(h.runtime, 'acmee'));
    expect(error).toMatchObject({ exitCode: 2, message: 'Unknown provider "acmee".' });
    expect(error.action).toBe(
      'Did you mean acme? Choose one of: acme, beta; `latchkey auth providers` lists them.',
    );
  });

  it('several candidates in a terminal: a question, then the chosen token', async () => {
    const h = await start({ providers: [acme(), beta()], interactive: true, answers: ['beta'] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'acme-token' });
    await h.store.save({ provider: 'beta', account: 'ada', secret: 'beta-token' });
    expect((await resolveToken(h.runtime)).token).toBe('beta-token');
    expect(h.prompts).toEqual([
      {
        kind: 'select',
        message: 'Which provider to print a token for?',
        choices: ['Acme (acme)', 'Beta (beta)'],
      },
    ]);
  });

  it('several candidates in a pipe: a usage error listing them, no token, no question', async () => {
    const h = await start({ providers: [acme(), beta()], env: { ACME_API_KEY: 'acme-env' } });
    await h.store.save({ provider: 'beta', account: 'ada', secret: 'beta-token' });
    const error = await rejection(resolveToken(h.runtime));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      '--provider is required: more than one provider applies to print a token for.',
    );
    expect(error.action).toBe('Pass --provider with one of: acme, beta.');
    expect(h.prompts).toEqual([]);
  });

  it('in a terminal under CI, several candidates are still a usage error', async () => {
    const h = await start({ providers: [acme(), beta()], interactive: true, env: { CI: 'true' } });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'acme-token' });
    await h.store.save({ provider: 'beta', account: 'ada', secret: 'beta-token' });
    expect((await rejection(resolveToken(h.runtime))).exitCode).toBe(2);
    expect(h.prompts).toEqual([]);
  });
});

describe('auth token: which stored account (--account > env credential > LATCHKEY_<ID>_ACCOUNT > directory > default)', () => {
  /** acme with ada (the default) and grace; `work` has grace chosen for it. */
  async function twoAccounts(options: { env?: Record<string, string> } = {}) {
    const providers = [acme()];
    const h = await start({ providers, ...options });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'ada-token' });
    await h.store.save({ provider: 'acme', account: 'grace', secret: 'grace-token' });
    const work = await realpath(await mkdtemp(join(tmpdir(), 'latchkey-work-')));
    await mkdir(join(work, 'api', 'src'), { recursive: true });
    await h.store.setDirectoryChoice('acme', work, 'grace');
    cleanups.push(() => rm(work, { recursive: true, force: true }));
    return { h, providers, work };
  }
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const picked = (r: { token: string; account?: string; chosenBy?: string; detail?: string }) => [
    r.token,
    r.account,
    r.chosenBy,
    r.detail,
  ];

  it('the default account outside any chosen directory', async () => {
    const { h } = await twoAccounts();
    const result = await resolveToken(h.runtime, 'acme', { cwd: tmpdir() });
    expect(picked(result)).toEqual(['ada-token', 'ada', 'default', undefined]);
    expect(result.source).toBe('stored:file');
  });

  it('the directory choice in that directory and below it', async () => {
    const { h, work } = await twoAccounts();
    for (const cwd of [work, join(work, 'api', 'src')]) {
      expect(picked(await resolveToken(h.runtime, 'acme', { cwd }))).toEqual([
        'grace-token',
        'grace',
        'directory',
        work,
      ]);
    }
  });

  it('the nearest directory choice wins over one further up', async () => {
    const { h, work } = await twoAccounts();
    await h.store.setDirectoryChoice('acme', join(work, 'api'), 'ada');
    const result = await resolveToken(h.runtime, 'acme', { cwd: join(work, 'api', 'src') });
    expect(picked(result)).toEqual(['ada-token', 'ada', 'directory', join(work, 'api')]);
  });

  it('LATCHKEY_<ID>_ACCOUNT outranks the directory choice', async () => {
    const { h, work } = await twoAccounts({ env: { LATCHKEY_ACME_ACCOUNT: ' ada ' } });
    expect(picked(await resolveToken(h.runtime, 'acme', { cwd: work }))).toEqual([
      'ada-token',
      'ada',
      'env',
      'LATCHKEY_ACME_ACCOUNT',
    ]);
  });

  it("the provider's environment credential outranks LATCHKEY_<ID>_ACCOUNT and directories", async () => {
    const { h, work } = await twoAccounts({
      env: { ACME_API_KEY: 'from-env', LATCHKEY_ACME_ACCOUNT: 'ada' },
    });
    expect(await resolveToken(h.runtime, 'acme', { cwd: work })).toEqual({
      provider: 'acme',
      token: 'from-env',
      source: 'env:ACME_API_KEY',
    });
  });

  it('--account outranks everything, the environment credential included', async () => {
    const { h, work } = await twoAccounts({
      env: { ACME_API_KEY: 'from-env', LATCHKEY_ACME_TOKEN: 'x', LATCHKEY_ACME_ACCOUNT: 'grace' },
    });
    const result = await resolveToken(h.runtime, 'acme', { account: 'ada', cwd: work });
    expect(picked(result)).toEqual(['ada-token', 'ada', 'flag', undefined]);
  });

  it('--account without --provider picks the only provider with a credential', async () => {
    const { h } = await twoAccounts();
    expect((await resolveToken(h.runtime, undefined, { account: 'grace', cwd: tmpdir() })).token).toBe(
      'grace-token',
    );
  });

  it('--account without --provider finds the one provider that has that account (as auth status does)', async () => {
    const h = await start({ providers: [acme(), beta()] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'ada-token' });
    await h.store.save({ provider: 'beta', account: 'laptop', secret: 'laptop-token' });
    const result = await resolveToken(h.runtime, undefined, { account: 'laptop', cwd: tmpdir() });
    expect([result.provider, result.token, result.chosenBy]).toEqual(['beta', 'laptop-token', 'flag']);
    // An account name two providers have: --provider is needed (no terminal to ask).
    await h.store.save({ provider: 'acme', account: 'laptop', secret: 'acme-laptop' });
    const both = await rejection(resolveToken(h.runtime, undefined, { account: 'laptop', cwd: tmpdir() }));
    expect(both).toMatchObject({ exitCode: 2, action: 'Pass --provider with one of: acme, beta.' });
    // No provider has it: exit 4 listing every stored name.
    const none = await rejection(resolveToken(h.runtime, undefined, { account: 'nobody', cwd: tmpdir() }));
    expect(none).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(none.action).toBe('Use one of: ada, laptop (`latchkey auth status` shows them).');
  });

  it('an unknown --account: exit 4 naming it and listing the stored names; no token', async () => {
    const { h, providers } = await twoAccounts();
    const error = await rejection(resolveToken(h.runtime, 'acme', { account: 'nobody', cwd: tmpdir() }));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.message).toBe("No acme account named 'nobody' is stored.");
    expect(error.action).toBe('Use one of: ada, grace (`latchkey auth status` shows them).');
    expect(providers.flatMap((p) => p.calls)).toEqual([]);
    expect(h.stdout() + h.stderr()).toBe('');
  });

  it('an unknown LATCHKEY_<ID>_ACCOUNT: the same exit 4, not another account', async () => {
    const { h } = await twoAccounts({ env: { LATCHKEY_ACME_ACCOUNT: 'nobody' } });
    const error = await rejection(resolveToken(h.runtime, 'acme', { cwd: tmpdir() }));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.action).toContain('ada, grace');
  });

  it('--account with nothing stored: exit 4', async () => {
    const h = await start({ providers: [acme()] });
    const error = await rejection(resolveToken(h.runtime, 'acme', { account: 'ada', cwd: tmpdir() }));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
  });

  it('an empty --account: usage error (exit 2)', async () => {
    const { h } = await twoAccounts();
    const error = await rejection(resolveToken(h.runtime, 'acme', { account: ' ', cwd: tmpdir() }));
    expect(error).toMatchObject({ exitCode: 2, message: '--account needs an account name.' });
  });
});
