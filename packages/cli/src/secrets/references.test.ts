/**
 * `latchkey://` references with fakes only: the forms that parse and those that do not, then resolution
 * against a real store on a temp dir (stored accounts, environment credentials, accounts named in the
 * reference or by `--account`, base URLs from the record, the environment or the default). No provider
 * code runs, nothing reaches a server, and no error carries a value.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderManifest } from '@latchkey/plugin-kit/manifest';
import { CredentialStore } from '@latchkey/storage';
import { rejection } from '../testing/fake-host.js';
import type { StaticProvider } from '../providers/provider-facts.js';
import { isReference, parseReference, providerExecEnv, resolveReferences } from './references.js';

describe('parseReference', () => {
  it.each([
    ['latchkey://nanogpt', { provider: 'nanogpt', field: 'token' }],
    ['latchkey://nanogpt#token', { provider: 'nanogpt', field: 'token' }],
    ['latchkey://kaneo#base-url', { provider: 'kaneo', field: 'base-url' }],
    ['latchkey://acme-cloud/work', { provider: 'acme-cloud', account: 'work', field: 'token' }],
    [
      'latchkey://kaneo/ada%40example.com#base-url',
      { provider: 'kaneo', account: 'ada@example.com', field: 'base-url' },
    ],
    ['latchkey://acme/team%2Fci%20box', { provider: 'acme', account: 'team/ci box', field: 'token' }],
  ])('%s', (text, expected) => {
    expect(parseReference(text)).toStrictEqual(expected);
  });

  it.each([
    ['nanogpt', 'it does not start with latchkey://'],
    ['latchkey://', 'the provider is missing'],
    ['latchkey:///ada', 'the provider is missing'],
    ['latchkey://NanoGPT', 'the provider "NanoGPT" is not a provider id'],
    ['latchkey://nano_gpt', 'is not a provider id'],
    ['latchkey://nanogpt#password', 'the field "password" is not one of token, base-url'],
    ['latchkey://nanogpt#', 'the field "" is not one of'],
    ['latchkey://nanogpt/', 'the account after "/" is empty'],
    ['latchkey://nanogpt/a/b', 'one URL-encoded name'],
    ['latchkey://nanogpt/a?x=1', 'one URL-encoded name'],
    ['latchkey://nanogpt/%E0%A4%A', 'not valid URL encoding'],
    ['latchkey://nanogpt/%20', 'the account is empty'],
  ])('%s is a usage error', (text, why) => {
    let error: unknown;
    try {
      parseReference(text);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect((error as Error).message).toContain(`Malformed reference ${JSON.stringify(text)}: `);
    expect((error as Error).message).toContain(why);
    expect((error as { action: string }).action).toContain('latchkey://<provider>[/<account>]');
  });

  it('isReference is the prefix test', () => {
    expect(isReference('latchkey://nanogpt')).toBe(true);
    expect(isReference('latchkey://')).toBe(true);
    expect(isReference('sk-nano-1234')).toBe(false);
    expect(isReference(' latchkey://nanogpt')).toBe(false);
    expect(isReference('LATCHKEY://nanogpt')).toBe(false);
  });
});

const acme: ProviderManifest = {
  id: 'acme',
  title: 'Acme',
  defaultBaseUrl: 'https://api.acme.example',
  envVars: ['ACME_API_KEY'],
  baseUrlEnvVars: ['ACME_API_URL'],
  methods: ['token'],
  execEnv: { ACME_API_KEY: 'token', ACME_API_URL: 'base-url' },
};
const beta: ProviderManifest = {
  id: 'beta',
  title: 'Beta',
  defaultBaseUrl: 'https://beta.example/v1',
  envVars: ['BETA_TOKEN'],
  methods: ['token'],
};

describe('resolveReferences and providerExecEnv', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  /** acme: ada (default, stored with a self-hosted URL) and grace (no URL); beta: one account. */
  async function setup(env: Record<string, string> = {}) {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-refs-'));
    dirs.push(dir);
    const store = new CredentialStore({ configDir: join(dir, 'config'), preference: 'file' });
    await store.save({
      provider: 'acme',
      account: 'ada',
      secret: 'ada-token',
      baseUrl: 'https://acme.self-hosted.example/',
    });
    await store.save({ provider: 'acme', account: 'grace@example.com', secret: 'grace-token' });
    await store.save({ provider: 'beta', account: 'ci', secret: 'beta-token' });
    const providers = new Map<string, StaticProvider>([
      ['acme', { manifest: acme, plugin: '@x/acme' }],
      ['beta', { manifest: beta, plugin: '@x/beta' }],
    ]);
    return { providers, env, store, cwd: dir };
  }

  const resolved: Array<{
    name: string;
    env?: Record<string, string>;
    refs: string[];
    values: string[];
  }> = [
    {
      name: 'the default stored account, two providers',
      refs: ['latchkey://acme', 'latchkey://beta#token'],
      values: ['ada-token', 'beta-token'],
    },
    {
      name: 'an account named in the reference, URL-encoded',
      refs: ['latchkey://acme/grace%40example.com'],
      values: ['grace-token'],
    },
    {
      name: "the provider's environment credential wins over the stored default",
      env: { ACME_API_KEY: 'env-token' },
      refs: ['latchkey://acme'],
      values: ['env-token'],
    },
    {
      name: 'an account in the reference wins over the environment credential',
      env: { ACME_API_KEY: 'env-token' },
      refs: ['latchkey://acme/ada'],
      values: ['ada-token'],
    },
    {
      name: 'LATCHKEY_<ID>_ACCOUNT picks the stored account',
      env: { LATCHKEY_ACME_ACCOUNT: 'grace@example.com' },
      refs: ['latchkey://acme'],
      values: ['grace-token'],
    },
    {
      name: "base-url: the chosen account's stored URL (no trailing slash on an origin)",
      refs: ['latchkey://acme#base-url'],
      values: ['https://acme.self-hosted.example'],
    },
    {
      name: 'base-url: the stored URL beats the environment',
      env: { ACME_API_URL: 'https://from-env.example' },
      refs: ['latchkey://acme/ada#base-url'],
      values: ['https://acme.self-hosted.example'],
    },
    {
      name: "base-url: an account stored without one takes the provider's variable",
      env: { ACME_API_URL: 'https://from-env.example' },
      refs: ['latchkey://acme/grace%40example.com#base-url'],
      values: ['https://from-env.example'],
    },
    {
      name: 'base-url: LATCHKEY_<ID>_BASE_URL before the provider variable',
      env: { LATCHKEY_ACME_BASE_URL: 'http://127.0.0.1:9000', ACME_API_URL: 'https://from-env.example' },
      refs: ['latchkey://acme/grace%40example.com#base-url'],
      values: ['http://127.0.0.1:9000'],
    },
    {
      name: 'base-url: with an environment credential, the environment URL (no stored record applies)',
      env: { ACME_API_KEY: 'env-token', ACME_API_URL: 'https://from-env.example' },
      refs: ['latchkey://acme#base-url'],
      values: ['https://from-env.example'],
    },
    {
      name: 'base-url: the manifest default, path kept',
      refs: ['latchkey://beta#base-url'],
      values: ['https://beta.example/v1'],
    },
  ];
  for (const c of resolved) {
    it(c.name, async () => {
      const ctx = await setup(c.env);
      const out = await resolveReferences(
        c.refs.map((ref, i) => ({ name: `V${i}`, ref })),
        ctx,
      );
      expect(out.map((r) => r.value)).toEqual(c.values);
      expect(out.map((r) => r.name)).toEqual(c.refs.map((_, i) => `V${i}`));
      expect(out.map((r) => r.secret)).toEqual(c.refs.map((ref) => !ref.endsWith('#base-url')));
    });
  }

  it('base-url without any credential is still the default; a named account must exist', async () => {
    const ctx = await setup();
    await ctx.store.remove('beta', 'ci');
    expect(await resolveReferences([{ name: 'U', ref: 'latchkey://beta#base-url' }], ctx)).toEqual([
      { name: 'U', value: 'https://beta.example/v1', secret: false },
    ]);
    const error = await rejection(
      resolveReferences([{ name: 'U', ref: 'latchkey://acme/nobody#base-url' }], ctx),
    );
    expect(error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(error.message).toMatch(/^U \("latchkey:\/\/acme\/nobody#base-url"\): /);
  });

  const failures: Array<{
    name: string;
    env?: Record<string, string>;
    ref: string;
    code: string;
    exitCode: number;
    message: string;
  }> = [
    {
      name: 'a malformed reference',
      ref: 'latchkey://acme#secret',
      code: 'USAGE',
      exitCode: 2,
      message: 'OPENAI_API_KEY ("latchkey://acme#secret"): Malformed reference "latchkey://acme#secret"',
    },
    {
      name: 'an unknown provider',
      ref: 'latchkey://nope',
      code: 'USAGE',
      exitCode: 2,
      message: 'OPENAI_API_KEY ("latchkey://nope"): Unknown provider "nope".',
    },
    {
      name: 'not signed in',
      ref: 'latchkey://gamma',
      code: 'NOT_SIGNED_IN',
      exitCode: 4,
      message: 'OPENAI_API_KEY ("latchkey://gamma"): Not signed in to Gamma.',
    },
    {
      name: 'an account that is not stored',
      ref: 'latchkey://acme/nobody',
      code: 'ACCOUNT_NOT_FOUND',
      exitCode: 4,
      message: 'OPENAI_API_KEY ("latchkey://acme/nobody"): No acme account named \'nobody\'',
    },
    {
      name: 'an environment credential that is not a token (named by its variable, not shown)',
      env: { ACME_API_KEY: 'not\u0007a-token' },
      ref: 'latchkey://acme',
      code: 'USAGE',
      exitCode: 2,
      message: 'OPENAI_API_KEY ("latchkey://acme"): ',
    },
  ];
  for (const f of failures) {
    it(`fails on ${f.name}, naming the variable and the reference, never a value`, async () => {
      const ctx = await setup(f.env);
      ctx.providers.set('gamma', {
        manifest: { ...beta, id: 'gamma', title: 'Gamma', envVars: ['GAMMA_TOKEN'] },
        plugin: '@x/gamma',
      });
      const error = await rejection(
        resolveReferences(
          [
            { name: 'FIRST', ref: 'latchkey://beta' },
            { name: 'OPENAI_API_KEY', ref: f.ref },
          ],
          ctx,
        ),
      );
      expect(error).toMatchObject({ code: f.code, exitCode: f.exitCode });
      expect(error.message.startsWith(f.message)).toBe(true);
      const text = `${error.message} ${error.action ?? ''}`;
      for (const secret of ['ada-token', 'grace-token', 'beta-token', 'not\u0007a-token']) {
        expect(text).not.toContain(secret);
      }
    });
  }

  it('inject names the reference alone when it is the name', async () => {
    const ctx = await setup();
    const error = await rejection(
      resolveReferences([{ name: 'latchkey://gone', ref: 'latchkey://gone' }], ctx),
    );
    expect(error.message).toBe('"latchkey://gone": Unknown provider "gone".');
  });

  it("providerExecEnv: the manifest's variables, from the usual account or --account", async () => {
    const ctx = await setup();
    expect(await providerExecEnv(acme, ctx)).toEqual([
      { name: 'ACME_API_KEY', value: 'ada-token', secret: true },
      { name: 'ACME_API_URL', value: 'https://acme.self-hosted.example', secret: false },
    ]);
    expect(await providerExecEnv(acme, { ...ctx, account: 'grace@example.com' })).toEqual([
      { name: 'ACME_API_KEY', value: 'grace-token', secret: true },
      { name: 'ACME_API_URL', value: 'https://api.acme.example', secret: false },
    ]);
    expect(await providerExecEnv(acme, { ...ctx, env: { ACME_API_KEY: 'env-token' } })).toEqual([
      { name: 'ACME_API_KEY', value: 'env-token', secret: true },
      { name: 'ACME_API_URL', value: 'https://api.acme.example', secret: false },
    ]);
  });

  it('providerExecEnv: not signed in names the variable; no declaration is a usage error', async () => {
    const ctx = await setup();
    const missing = await rejection(providerExecEnv(acme, { ...ctx, account: 'nobody' }));
    expect(missing).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(missing.message).toMatch(/^ACME_API_KEY \(--provider acme\): /);
    await ctx.store.remove('acme', 'ada');
    await ctx.store.remove('acme', 'grace@example.com');
    const out = await rejection(providerExecEnv(acme, ctx));
    expect(out).toMatchObject({ code: 'NOT_SIGNED_IN', exitCode: 4 });
    expect(out.message).toBe('ACME_API_KEY (--provider acme): Not signed in to Acme.');
    const none = await rejection(providerExecEnv(beta, ctx));
    expect(none).toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(none.message).toBe('Beta (beta) declares no variables for `latchkey exec --provider`.');
    expect(none.action).toBe('Name them yourself: --env NAME=latchkey://beta.');
  });
});
