/**
 * `auth status`'s flow with fakes only: environment and stored credentials side by side, each validity
 * (valid, rejected, unreachable, error, provider not installed, orphaned) and the exit-code rules.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { standardRetry } from '@latchkey/http';
import { LatchkeyError } from '@latchkey/errors';
import { fakeHosts, fakeProvider, orphanAccount, rejection } from '../testing/fake-host.js';
import { describeStatus, status, statusExitCode, type CredentialStatus, type Validity } from './status.js';

const start = fakeHosts();

const ada = { account: 'ada', name: 'Ada' };
const row = (r: CredentialStatus) =>
  `${r.provider}:${r.account}:${r.source}:${r.validity}${r.active ? ':active' : ''}`;

describe('auth status: what is shown', () => {
  it('an environment credential and a stored one: both checked, the environment one is the active one', async () => {
    const provider = fakeProvider(
      { id: 'acme' },
      { accounts: { 'env-token-123': ada, 'stored-token': ada } },
    );
    const h = await start({ providers: [provider], env: { ACME_API_KEY: 'env-token-123' } });
    await h.store.save({
      provider: 'acme',
      account: 'ada',
      secret: 'stored-token',
      baseUrl: 'https://eu.acme.example',
    });
    const results = await status(h.runtime);
    expect(results.map(row)).toEqual(['acme:...-123:env:ACME_API_KEY:valid:active', 'acme:ada:stored:valid']);
    // Each was checked against its own server: the stored one against the URL it was issued for.
    expect(provider.calls.map((c) => `${c.token}@${c.baseUrl}`).sort()).toEqual([
      'env-token-123@https://acme.example/',
      'stored-token@https://eu.acme.example/',
    ]);
    expect(statusExitCode(results)).toBe(0);
  });

  it('the identity from the server is shown with what was stored', async () => {
    const provider = fakeProvider(
      { id: 'acme' },
      { accounts: { t: { account: 'ada', email: 'ada@example.com', expiresAt: '2027-01-01T00:00:00Z' } } },
    );
    const h = await start({ providers: [provider] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 't', identity: { name: 'Ada' } });
    const [result] = await status(h.runtime);
    expect(result!.identity).toEqual({ name: 'Ada', email: 'ada@example.com' });
    expect(result!.expiresAt).toBe('2027-01-01T00:00:00Z');
    expect(describeStatus([result!], h.configDir)).toContain('    Email:      ada@example.com\n');
  });

  it('nothing to show about the identity: no empty `identity` object in the JSON', async () => {
    const provider = fakeProvider({ id: 'acme' }, { accounts: { t: { account: 'ada' } } });
    const h = await start({ providers: [provider] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 't', identity: {} });
    const [result] = await status(h.runtime);
    expect(result!.validity).toBe('valid');
    expect(Object.keys(result!)).not.toContain('identity');
  });

  const failures: Array<{ name: string; error: LatchkeyError; validity: Validity; exitCode: number }> = [
    {
      name: 'rejected by the server: exit 4',
      error: new LatchkeyError({ code: 'AUTH_REJECTED', message: 'Invalid key.', exitCode: 4 }),
      validity: 'rejected',
      exitCode: 4,
    },
    {
      name: 'a refresh token the server no longer accepts: expired, exit 4',
      error: new LatchkeyError({ code: 'SESSION_EXPIRED', message: 'No longer accepted.', exitCode: 4 }),
      validity: 'expired',
      exitCode: 4,
    },
    {
      name: 'an expired token without a refresh token: expired, exit 4',
      error: new LatchkeyError({ code: 'TOKEN_EXPIRED', message: 'Expired.', exitCode: 4 }),
      validity: 'expired',
      exitCode: 4,
    },
    {
      name: 'server unreachable: exit 1',
      error: new LatchkeyError({
        code: 'NETWORK_ERROR',
        message: 'No answer.',
        exitCode: 1,
        retryable: true,
      }),
      validity: 'unreachable',
      exitCode: 1,
    },
    {
      name: 'a timeout counts as unreachable',
      error: new LatchkeyError({ code: 'TIMEOUT', message: 'Too slow.', exitCode: 1 }),
      validity: 'unreachable',
      exitCode: 1,
    },
    {
      name: 'any other failure: could not be checked, exit 1',
      error: new LatchkeyError({ code: 'STORAGE_TAMPERED', message: 'Tampered.', exitCode: 1 }),
      validity: 'error',
      exitCode: 1,
    },
  ];
  for (const c of failures) {
    it(c.name, async () => {
      const h = await start({ providers: [fakeProvider({ id: 'acme' }, { verifyError: c.error })] });
      await h.store.save({ provider: 'acme', account: 'ada', secret: 'stored-token' });
      const results = await status(h.runtime);
      expect(results.map((r) => r.validity)).toEqual([c.validity]);
      expect(results[0]!.error).toMatchObject({ code: c.error.code, message: c.error.message });
      expect(statusExitCode(results)).toBe(c.exitCode);
    });
  }

  it('a rejected credential wins over an unreachable one: exit 4', async () => {
    const h = await start({
      providers: [
        fakeProvider({ id: 'acme' }),
        fakeProvider(
          { id: 'beta' },
          { verifyError: new LatchkeyError({ code: 'NETWORK_ERROR', message: 'x', exitCode: 1 }) },
        ),
      ],
    });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'not-accepted' });
    await h.store.save({ provider: 'beta', account: 'ada', secret: 'b' });
    const results = await status(h.runtime);
    expect(results.map(row)).toEqual([
      'acme:ada:stored:rejected:active',
      'beta:ada:stored:unreachable:active',
    ]);
    expect(statusExitCode(results)).toBe(4);
  });

  it('a stored account whose provider is not installed: shown, not checked, exit 1', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    await h.store.save({ provider: 'ghost', account: 'ada', secret: 'g', baseUrl: 'https://ghost.example' });
    const results = await status(h.runtime);
    expect(results.map(row)).toEqual(['ghost:ada:stored:not-installed:active']);
    expect(results[0]!.error?.action).toBe(
      'Reinstall its plugin, or remove it with `latchkey auth logout --provider ghost --all`.',
    );
    expect(statusExitCode(results)).toBe(1);
  });

  it("an orphaned secret is listed after its provider's rows and never checked; alone it does not change the code", async () => {
    const provider = fakeProvider({ id: 'acme' }, { accounts: { good: ada } });
    const h = await start({ providers: [provider] });
    await h.store.save({ provider: 'acme', account: 'lost', secret: 'lost-secret' });
    await orphanAccount(h.configDir, 'acme', 'lost');
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'good' });
    const results = await status(h.runtime);
    expect(results.map(row)).toEqual(['acme:ada:stored:valid:active', 'acme:lost:orphaned:orphaned']);
    expect(provider.calls.map((c) => c.token)).toEqual(['good']);
    expect(statusExitCode(results)).toBe(0);
    expect(describeStatus(results, h.configDir)).toContain(
      '  ! lost: orphaned secret, not in the index (never used)\n',
    );
  });

  it('only orphans: exit 4', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    await h.store.save({ provider: 'acme', account: 'lost', secret: 'lost-secret' });
    await orphanAccount(h.configDir, 'acme', 'lost');
    const results = await status(h.runtime);
    expect(results.map(row)).toEqual(['acme:lost:orphaned:orphaned']);
    expect(statusExitCode(results)).toBe(4);
  });

  it('--provider: only that provider', async () => {
    const h = await start({
      providers: [
        fakeProvider({ id: 'acme' }, { accounts: { a: ada } }),
        fakeProvider({ id: 'beta' }, { accounts: { b: ada } }),
      ],
    });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'a' });
    await h.store.save({ provider: 'beta', account: 'ada', secret: 'b' });
    expect((await status(h.runtime, 'beta')).map(row)).toEqual(['beta:ada:stored:valid:active']);
  });
});

describe('auth status: quick with servers down or slow', () => {
  afterEach(() => void vi.unstubAllGlobals());

  /** A provider whose verify makes one request with the retry policy the bundled providers use. */
  const httpProvider = () => {
    const provider = fakeProvider({ id: 'acme' });
    provider.verify = async (token, ctx) => {
      const response = await ctx.http.send({ url: ctx.baseUrl, bearer: token, retry: standardRetry });
      return { account: `${response.status}` };
    };
    return provider;
  };

  /** fetch, replaced: each call is recorded and answered by `answer`. */
  const stubFetch = (answer: (init: RequestInit) => Promise<Response>) => {
    const calls: string[] = [];
    vi.stubGlobal('fetch', async (url: URL, init: RequestInit) => {
      calls.push(String(url));
      return answer(init);
    });
    return calls;
  };
  const failWith = (code: string) => async () => {
    throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
  };

  it.each([
    ['a refused connection', 'ECONNREFUSED', 'the connection was refused'],
    ['a host name that does not resolve', 'ENOTFOUND', 'the host name could not be resolved'],
  ])('%s is asked once, not retried: unreachable, exit 1', async (_, code, reason) => {
    const h = await start({ providers: [httpProvider()] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 's1', baseUrl: 'https://a.acme.example' });
    await h.store.save({ provider: 'acme', account: 'bob', secret: 's2', baseUrl: 'https://b.acme.example' });
    const calls = stubFetch(failWith(code));
    const results = await status(h.runtime);
    expect(calls.sort()).toEqual(['https://a.acme.example/', 'https://b.acme.example/']);
    expect(results.map(row)).toEqual(['acme:ada:stored:unreachable:active', 'acme:bob:stored:unreachable']);
    expect(results[0]!.error?.message).toBe(`Could not reach a.acme.example: ${reason}.`);
    expect(statusExitCode(results)).toBe(1);
  });

  it('a server that accepts and never answers costs the status timeout, whatever the request asked', async () => {
    const h = await start({ providers: [httpProvider()] });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 's1' });
    const calls = stubFetch(
      (init) =>
        new Promise((_, reject) =>
          init.signal!.addEventListener('abort', () => reject(init.signal!.reason), { once: true }),
        ),
    );
    const [result] = await status(h.runtime, undefined, { timeoutMs: 100 });
    expect(calls).toHaveLength(1);
    expect(result!.validity).toBe('unreachable');
    expect(result!.error?.message).toBe('acme.example did not answer within 0.1 s (1 try).');
  });

  it('checks every account at the same time, and shows them in the stored order whatever order they answer in', async () => {
    const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'];
    const waiting = new Map<string, () => void>();
    const answered: string[] = [];
    // Once all six wait, they answer one by one in reverse order (each released after the one before answered).
    const release = async () => {
      for (const name of [...names].reverse()) {
        waiting.get(name)!();
        for (let turn = 0; turn < 100 && !answered.includes(name); turn += 1) {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
    const provider = fakeProvider({ id: 'acme' });
    provider.verify = async (token) => {
      // Checked one by one, the first check would wait for ever (and the test time out).
      await new Promise<void>((resolve) => {
        waiting.set(token, resolve);
        if (waiting.size === names.length) void release();
      });
      answered.push(token);
      return { account: token };
    };
    const h = await start({ providers: [provider] });
    for (const name of names) await h.store.save({ provider: 'acme', account: name, secret: name });
    const results = await status(h.runtime);
    expect(answered).toEqual([...names].reverse());
    expect(results.map((r) => r.account)).toEqual(names);
  });
});

describe('auth status: nothing to show', () => {
  it('nothing anywhere: NOT_SIGNED_IN, exit 4', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    const error = await rejection(status(h.runtime));
    expect(error).toMatchObject({
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'Not signed in to any provider.',
    });
  });

  it('nothing for --provider: NOT_SIGNED_IN naming its variables', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme', title: 'Acme' })] });
    const error = await rejection(status(h.runtime, 'acme'));
    expect(error).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4, message: 'Not signed in to Acme.' });
    expect(error.action).toBe('Run `latchkey auth login --provider acme` or set ACME_API_KEY.');
  });

  it('an unknown --provider: exit 2', async () => {
    const h = await start({ providers: [fakeProvider({ id: 'acme' })] });
    const error = await rejection(status(h.runtime, 'nope'));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe('Unknown provider "nope".');
  });
});

describe('statusExitCode', () => {
  const of = (...validities: Validity[]) => validities.map((validity) => ({ validity }) as CredentialStatus);
  const table: Array<[Validity[], number]> = [
    [['valid'], 0],
    [['valid', 'orphaned'], 0],
    [['orphaned'], 4],
    [[], 4],
    [['valid', 'rejected'], 4],
    [['unreachable', 'rejected'], 4],
    [['valid', 'expired'], 4],
    [['unreachable', 'expired'], 4],
    [['valid', 'unreachable'], 1],
    [['valid', 'error'], 1],
    [['valid', 'not-installed'], 1],
  ];
  for (const [validities, code] of table) {
    it(`${validities.join(', ') || 'nothing'} → ${code}`, () =>
      expect(statusExitCode(of(...validities))).toBe(code));
  }
});

describe('auth status: which account is in use here, and why', () => {
  const tokens = { 'acme-ada': ada, 'acme-grace': { account: 'grace' }, 'env-token-123': ada };
  async function twoAccounts(env: Record<string, string> = {}) {
    const provider = fakeProvider({ id: 'acme' }, { accounts: tokens });
    const h = await start({ providers: [provider], env });
    await h.store.save({ provider: 'acme', account: 'ada', secret: 'acme-ada' });
    await h.store.save({ provider: 'acme', account: 'grace', secret: 'acme-grace' });
    const home = await realpath(h.runtime.env.HOME!);
    const project = join(home, 'work', 'api');
    await mkdir(join(project, 'src'), { recursive: true });
    await h.store.setDirectoryChoice('acme', project, 'grace');
    return { h, home, project };
  }
  const inUse = (results: CredentialStatus[]) =>
    results.filter((r) => r.active).map((r) => ({ account: r.account, chosenBy: r.chosenBy }));

  const cases: Array<{
    name: string;
    env?: Record<string, string>;
    account?: string;
    where: 'home' | 'project';
    expected: { account: string; chosenBy: CredentialStatus['chosenBy'] };
    line: string;
  }> = [
    {
      name: 'the default outside any chosen directory',
      where: 'home',
      expected: { account: 'ada', chosenBy: { by: 'default' } },
      line: '    Chosen by:  default',
    },
    {
      name: 'the nearest directory choice below it',
      where: 'project',
      expected: { account: 'grace', chosenBy: { by: 'directory', detail: 'PROJECT' } },
      line: '    Chosen by:  directory ~/work/api (auth switch --dir)',
    },
    {
      name: 'LATCHKEY_<ID>_ACCOUNT over the directory',
      env: { LATCHKEY_ACME_ACCOUNT: 'ada' },
      where: 'project',
      expected: { account: 'ada', chosenBy: { by: 'env', detail: 'LATCHKEY_ACME_ACCOUNT' } },
      line: '    Chosen by:  LATCHKEY_ACME_ACCOUNT',
    },
    {
      name: "the provider's credential variable over LATCHKEY_<ID>_ACCOUNT",
      env: { LATCHKEY_ACME_ACCOUNT: 'grace', ACME_API_KEY: 'env-token-123' },
      where: 'home',
      expected: { account: '...-123', chosenBy: { by: 'credential', detail: 'ACME_API_KEY' } },
      line: '    Chosen by:  ACME_API_KEY',
    },
    {
      name: '--account over everything, showing only that account',
      env: { LATCHKEY_ACME_ACCOUNT: 'grace', ACME_API_KEY: 'env-token-123' },
      account: 'ada',
      where: 'project',
      expected: { account: 'ada', chosenBy: { by: 'flag' } },
      line: '    Chosen by:  --account',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { h, home, project } = await twoAccounts(c.env);
      const results = await status(h.runtime, 'acme', {
        cwd: c.where === 'home' ? home : join(project, 'src'),
        ...(c.account !== undefined && { account: c.account }),
      });
      const expected = structuredClone(c.expected);
      if (expected.chosenBy?.detail === 'PROJECT') expected.chosenBy.detail = project;
      expect(inUse(results)).toEqual([expected]);
      if (c.account !== undefined) expect(results.map((r) => r.account)).toEqual([c.account]);
      expect(describeStatus(results, h.configDir, home).split('\n')).toContain(c.line);
    });
  }

  it.each([
    ['--account', { account: 'bob' }, {}],
    ['LATCHKEY_<ID>_ACCOUNT', {}, { LATCHKEY_ACME_ACCOUNT: 'bob' }],
  ])('%s naming nothing stored: exit 4 listing the names', async (_, options, env) => {
    const { h, home } = await twoAccounts(env);
    const error = await rejection(status(h.runtime, 'acme', { cwd: home, ...options }));
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.action).toContain('ada, grace');
  });
});
