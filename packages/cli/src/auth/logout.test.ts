/**
 * `auth logout`'s flow with fakes only: one account, --account, --all, revoke outcomes (a failed revoke is
 * reported and the credential is deleted anyway), environment credentials left alone, accounts of
 * providers no longer installed, and orphaned secrets.
 */
import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import { fakeHosts, fakeProvider, orphanAccount, rejection, type FakeHost } from '../testing/fake-host.js';
import { describeLogout, logout } from './logout.js';

const start = fakeHosts();

async function seed(h: FakeHost, provider: string, account: string, secret = `${provider}-${account}`) {
  await h.store.save({ provider, account, secret, baseUrl: `https://${provider}.example` });
}

const stored = async (h: FakeHost) => (await h.store.list()).map((r) => `${r.provider}:${r.account}`);

const unreachable = new LatchkeyError({
  code: 'NETWORK_ERROR',
  message: 'Could not reach revoke.example.',
  exitCode: 1,
  retryable: true,
});

describe('auth logout: revoking', () => {
  const cases: Array<{
    name: string;
    revoke: boolean | LatchkeyError | undefined;
    tokenUrl?: string;
    revoked: boolean | undefined;
    lines: string[];
  }> = [
    {
      name: 'revoked on the server, then deleted',
      revoke: true,
      revoked: true,
      lines: ['✓ Logged out of Acme (ada)', '  The credential was revoked on the server.'],
    },
    {
      name: 'a failed revoke is reported, and the credential is deleted anyway',
      revoke: unreachable,
      tokenUrl: 'https://acme.example/keys',
      revoked: false,
      lines: [
        '✓ Logged out of Acme (ada)',
        '! Could not revoke it on the server (acme.example): Could not reach revoke.example; the local copy was deleted here anyway.',
        '  Revoke it by hand at https://acme.example/keys.',
      ],
    },
    {
      name: 'a credential the server cannot revoke: deleted, and the user is told it still works',
      revoke: false,
      tokenUrl: 'https://acme.example/keys',
      revoked: undefined,
      lines: [
        '✓ Logged out of Acme (ada)',
        '  The credential itself still works until you revoke it at https://acme.example/keys.',
      ],
    },
    {
      name: "a failed revoke with no page to revoke at by hand: the error's own advice follows the warning",
      revoke: new LatchkeyError({
        code: 'REVOKE_CLIENT_AUTH_REQUIRED',
        message:
          'idp.example did not revoke the refresh token: it revokes only for a client that authenticates',
        action: 'The session stays valid at idp.example until its refresh token expires.',
      }),
      revoked: false,
      lines: [
        '✓ Logged out of Acme (ada)',
        '! Could not revoke it on the server (acme.example): idp.example did not revoke the refresh token: it revokes only for a client that authenticates; the local copy was deleted here anyway.',
        '  The session stays valid at idp.example until its refresh token expires.',
      ],
    },
    {
      name: 'a provider without revoke: deleted, with where to revoke it',
      revoke: undefined,
      revoked: undefined,
      lines: [
        '✓ Logged out of Acme (ada)',
        '  The credential itself still works until you revoke it in Acme.',
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const provider = fakeProvider(
        { id: 'acme', title: 'Acme', ...(c.tokenUrl && { tokenUrl: c.tokenUrl }) },
        c.revoke === undefined ? {} : { revoke: c.revoke },
      );
      const h = await start({ providers: [provider] });
      await seed(h, 'acme', 'ada', 'acme-secret');
      const outcome = await logout(h.runtime, { provider: 'acme', all: false });
      expect(outcome.removed).toHaveLength(1);
      expect(outcome.removed[0]!.revoked).toBe(c.revoked);
      expect(describeLogout(outcome)).toEqual(c.lines);
      // The provider was given the stored secret to revoke; the credential is gone either way.
      expect(provider.calls).toEqual(
        c.revoke === undefined ? [] : [{ call: 'revoke', token: 'acme-secret' }],
      );
      expect(await stored(h)).toEqual([]);
    });
  }

  it('a failed revoke keeps its error envelope for --json', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' }, { revoke: unreachable })] });
    await seed(h, 'acme', 'ada');
    const outcome = await logout(h.runtime, { provider: 'acme', all: false });
    expect(outcome.removed[0]!.revokeError).toMatchObject({ code: 'NETWORK_ERROR', retryable: true });
  });

  it('Ctrl-C during a revoke stops the logout: nothing is deleted', async () => {
    const cancelled = new LatchkeyError({ code: 'CANCELLED', message: 'Cancelled.', exitCode: 130 });
    const h = await start({ providers: [fakeProvider({ id: 'acme' }, { revoke: cancelled })] });
    await seed(h, 'acme', 'ada');
    expect((await rejection(logout(h.runtime, { provider: 'acme', all: false }))).exitCode).toBe(130);
    expect(await stored(h)).toEqual(['acme:ada']);
  });
});

describe('auth logout: which credentials', () => {
  const providers = () => [fakeProvider({ id: 'acme' }), fakeProvider({ id: 'beta' })];

  it('one account of the provider: no --account needed', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    await seed(h, 'beta', 'ada');
    const outcome = await logout(h.runtime, { provider: 'acme', all: false });
    expect(outcome.removed.map((r) => r.account)).toEqual(['ada']);
    expect(await stored(h)).toEqual(['beta:ada']);
  });

  it('several accounts, no --account, in a pipe: a usage error listing them, nothing deleted', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'grace');
    await seed(h, 'acme', 'ada');
    const error = await rejection(logout(h.runtime, { provider: 'acme', all: false }));
    expect(error).toMatchObject({
      exitCode: 2,
      message: '--account is required: Acme has 2 stored accounts.',
      action: 'Pass --account with one of: ada, grace (or --all for every one).',
    });
    expect(await stored(h)).toEqual(['acme:grace', 'acme:ada']);
  });

  it('several accounts, no --account, in a terminal: asks which, marking the default', async () => {
    const h = await start({ providers: providers(), interactive: true, answers: ['grace'] });
    await seed(h, 'acme', 'grace');
    await seed(h, 'acme', 'ada');
    const outcome = await logout(h.runtime, { provider: 'acme', all: false });
    expect(h.prompts).toEqual([
      { kind: 'select', message: 'Which Acme account to log out of?', choices: ['ada', 'grace (default)'] },
    ]);
    expect(outcome.removed.map((r) => r.account)).toEqual(['grace']);
    expect(await stored(h)).toEqual(['acme:ada']);
  });

  it('LATCHKEY_<ID>_ACCOUNT names the account like --account; the flag wins', async () => {
    const h = await start({ providers: providers(), env: { LATCHKEY_ACME_ACCOUNT: 'ada' } });
    await seed(h, 'acme', 'grace');
    await seed(h, 'acme', 'ada');
    await seed(h, 'acme', 'bob');
    await logout(h.runtime, { provider: 'acme', all: false });
    expect(await stored(h)).toEqual(['acme:grace', 'acme:bob']);
    await logout(h.runtime, { provider: 'acme', account: 'bob', all: false });
    expect(await stored(h)).toEqual(['acme:grace']);
  });

  it('LATCHKEY_<ID>_ACCOUNT naming nothing stored: exit 4 listing the stored ones', async () => {
    const h = await start({ providers: providers(), env: { LATCHKEY_ACME_ACCOUNT: 'bob' } });
    await seed(h, 'acme', 'ada');
    const error = await rejection(logout(h.runtime, { provider: 'acme', all: false }));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(await stored(h)).toEqual(['acme:ada']);
  });

  it('--account: that account', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    await seed(h, 'acme', 'grace');
    await logout(h.runtime, { provider: 'acme', account: 'ada', all: false });
    expect(await stored(h)).toEqual(['acme:grace']);
  });

  it('--account that is not stored: exit 4 listing the stored ones', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    const error = await rejection(logout(h.runtime, { provider: 'acme', account: 'bob', all: false }));
    expect(error).toMatchObject({
      code: 'ACCOUNT_NOT_FOUND',
      exitCode: 4,
      message: "No Acme account named 'bob' is stored.",
    });
    expect(error.action).toContain('ada');
    expect(await stored(h)).toEqual(['acme:ada']);
  });

  it('--provider --all: every account of that provider', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    await seed(h, 'acme', 'grace');
    await seed(h, 'beta', 'ada');
    await logout(h.runtime, { provider: 'acme', all: true });
    expect(await stored(h)).toEqual(['beta:ada']);
  });

  it('--all: every account of every provider', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    await seed(h, 'beta', 'ada');
    const outcome = await logout(h.runtime, { all: true });
    expect(outcome.removed.map((r) => `${r.provider}:${r.account}`)).toEqual(['acme:ada', 'beta:ada']);
    expect(await stored(h)).toEqual([]);
  });

  it('several providers stored, no --provider: a question in a terminal', async () => {
    const h = await start({ providers: providers(), interactive: true, answers: ['beta'] });
    await seed(h, 'acme', 'ada');
    await seed(h, 'beta', 'ada');
    await logout(h.runtime, { all: false });
    expect(h.prompts).toEqual([
      { kind: 'select', message: 'Which provider to log out of?', choices: ['Acme (acme)', 'Beta (beta)'] },
    ]);
    expect(await stored(h)).toEqual(['acme:ada']);
  });

  it('several providers stored, no --provider, in a pipe: a usage error, nothing deleted', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'acme', 'ada');
    await seed(h, 'beta', 'ada');
    const error = await rejection(logout(h.runtime, { all: false }));
    expect(error.exitCode).toBe(2);
    expect(error.action).toBe('Pass --provider with one of: acme, beta.');
    expect(await stored(h)).toEqual(['acme:ada', 'beta:ada']);
  });

  it('one provider stored: no --provider needed', async () => {
    const h = await start({ providers: providers() });
    await seed(h, 'beta', 'ada');
    await logout(h.runtime, { all: false });
    expect(await stored(h)).toEqual([]);
  });

  const refusals: Array<{
    name: string;
    request: { provider?: string; all: boolean };
    code: string;
    exitCode: number;
    message: string;
    action: RegExp;
  }> = [
    {
      name: 'nothing stored',
      request: { all: false },
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'No stored credentials.',
      action: /^Nothing to do/,
    },
    {
      // The same outcome as without --all (as `gh auth logout` with nothing signed in): not a silent 0.
      name: 'nothing stored, --all',
      request: { all: true },
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'No stored credentials.',
      action: /^Nothing to do/,
    },
    {
      name: 'nothing stored for that provider, --all',
      request: { provider: 'beta', all: true },
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'No stored credential for Beta.',
      action: /^Nothing to do/,
    },
    {
      name: 'nothing stored for that provider',
      request: { provider: 'beta', all: false },
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'No stored credential for Beta.',
      action: /^Nothing to do/,
    },
    {
      name: 'an unknown provider',
      request: { provider: 'nope', all: false },
      code: 'USAGE',
      exitCode: 2,
      message: 'Unknown provider "nope".',
      action: /acme, beta/,
    },
  ];
  for (const c of refusals) {
    it(`refuses: ${c.name}`, async () => {
      const h = await start({ providers: providers() });
      const error = await rejection(logout(h.runtime, c.request));
      expect(error).toMatchObject({ exitCode: c.exitCode, message: c.message });
      if (c.code !== 'USAGE') expect(error.code).toBe(c.code);
      expect(error.action).toMatch(c.action);
    });
  }
});

describe('auth logout: environment credentials are left alone', () => {
  it('the stored one is deleted, and the user is told the variable still signs them in', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })], env: { ACME_API_KEY: 'from-env' } });
    await seed(h, 'acme', 'ada');
    const outcome = await logout(h.runtime, { provider: 'acme', all: false });
    expect(outcome.envStillSet).toEqual(['ACME_API_KEY']);
    expect(describeLogout(outcome).at(-1)).toBe(
      '! ACME_API_KEY is still set in your environment; latchkey will keep using it until you unset it.',
    );
    expect(h.runtime.env.ACME_API_KEY).toBe('from-env');
  });

  it('only an environment credential: exit 4 saying to unset the variable', async () => {
    const h = await start({
      providers: [fakeProvider({ id: 'acme' })],
      env: { LATCHKEY_ACME_TOKEN: 'from-env' },
    });
    const error = await rejection(logout(h.runtime, { provider: 'acme', all: false }));
    expect(error).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4 });
    expect(error.action).toBe('The credential comes from LATCHKEY_ACME_TOKEN: unset it to sign out.');
  });
});

describe('auth logout: what a crash or an uninstall left', () => {
  it('an account whose provider is no longer installed can be removed by id', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    await seed(h, 'ghost', 'ada');
    const outcome = await logout(h.runtime, { provider: 'ghost', all: true });
    expect(outcome.removed).toEqual([{ provider: 'ghost', title: 'ghost', account: 'ada' }]);
    expect(await stored(h)).toEqual([]);
  });

  it("--provider --all deletes that provider's orphaned secrets (no index record) and reports them", async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' }), fakeProvider({ id: 'beta' })] });
    await seed(h, 'acme', 'ada');
    await seed(h, 'acme', 'lost');
    await seed(h, 'beta', 'lost');
    await orphanAccount(h.configDir, 'acme', 'lost');
    await orphanAccount(h.configDir, 'beta', 'lost');
    await seed(h, 'beta', 'ada');
    const outcome = await logout(h.runtime, { provider: 'acme', all: true });
    expect(outcome.orphansRemoved).toEqual([{ provider: 'acme', account: 'lost', backend: 'file' }]);
    expect(describeLogout(outcome)).toContain(
      '✓ Deleted an orphaned acme secret (lost) from the file protected by its permissions (the key sits beside it)',
    );
    expect((await h.store.orphans()).map((o) => `${o.provider}:${o.account}`)).toEqual(['beta:lost']);
    expect(await stored(h)).toEqual(['beta:ada']);
  });

  it('--all with only orphaned secrets (no index record) deletes them: something was done, exit 0', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    await seed(h, 'acme', 'lost');
    await orphanAccount(h.configDir, 'acme', 'lost');
    const outcome = await logout(h.runtime, { all: true });
    expect(outcome.removed).toEqual([]);
    expect(outcome.orphansRemoved).toEqual([{ provider: 'acme', account: 'lost', backend: 'file' }]);
    expect(await h.store.orphans()).toEqual([]);
  });

  it('without --all, orphans are left for --all', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    await seed(h, 'acme', 'ada');
    await seed(h, 'acme', 'lost');
    await seed(h, 'acme', 'grace');
    await orphanAccount(h.configDir, 'acme', 'lost');
    const outcome = await logout(h.runtime, { provider: 'acme', account: 'ada', all: false });
    expect(outcome.orphansRemoved).toEqual([]);
    expect((await h.store.orphans()).map((o) => o.account)).toEqual(['lost']);
  });
});
