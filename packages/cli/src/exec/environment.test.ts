/**
 * `exec`'s environment with a real store on a temp dir and static manifests only: `--account` without
 * `--provider` is never ignored (the provider that has that account, exit 4 when none, exit 2 when several).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderManifest } from '@latchkey/plugin-kit/manifest';
import { CredentialStore } from '@latchkey/storage';
import { rejection } from '../testing/fake-host.js';
import type { StaticProvider } from '../providers/provider-facts.js';
import { execEnvironment } from './environment.js';

const manifest = (id: string, variable: string): ProviderManifest => ({
  id,
  title: id.toUpperCase(),
  defaultBaseUrl: `https://${id}.example`,
  envVars: [variable],
  methods: ['token'],
  execEnv: { [variable]: 'token' },
});

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** acme: ada (default) and laptop; beta: ci. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'latchkey-exec-env-'));
  dirs.push(dir);
  const store = new CredentialStore({ configDir: join(dir, 'config'), preference: 'file' });
  await store.save({ provider: 'acme', account: 'ada', secret: 'acme-ada' });
  await store.save({ provider: 'acme', account: 'laptop', secret: 'acme-laptop' });
  await store.save({ provider: 'beta', account: 'ci', secret: 'beta-ci' });
  const providers = new Map<string, StaticProvider>([
    ['acme', { manifest: manifest('acme', 'ACME_KEY'), plugin: '@x/acme' }],
    ['beta', { manifest: manifest('beta', 'BETA_KEY'), plugin: '@x/beta' }],
  ]);
  return { providers, store, cwd: dir, env: {} as NodeJS.ProcessEnv };
}

describe('exec --account without --provider', () => {
  it("sets the variables of the one provider that has that account, with that account's secret", async () => {
    const ctx = await setup();
    const prepared = await execEnvironment({ providers: [], account: 'laptop', env: [] }, ctx);
    expect(prepared.env).toEqual({ ACME_KEY: 'acme-laptop' });
    expect(prepared.secrets).toEqual(['acme-laptop']);
    const beta = await execEnvironment({ providers: [], account: 'ci', env: [] }, ctx);
    expect(beta.env).toEqual({ BETA_KEY: 'beta-ci' });
  });

  it('no provider has it: exit 4 listing the stored names; several have it: exit 2 naming them', async () => {
    const ctx = await setup();
    const none = await rejection(execEnvironment({ providers: [], account: 'nobody', env: [] }, ctx));
    expect(none).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', exitCode: 4 });
    expect(none.action).toBe('Use one of: ada, ci, laptop (`latchkey auth status` shows them).');
    await ctx.store.save({ provider: 'beta', account: 'laptop', secret: 'beta-laptop' });
    const both = await rejection(execEnvironment({ providers: [], account: 'laptop', env: [] }, ctx));
    expect(both).toMatchObject({
      exitCode: 2,
      message: "An account named 'laptop' is stored for more than one provider (acme, beta).",
      action: 'Pass --provider with one of: acme, beta.',
    });
  });
});
