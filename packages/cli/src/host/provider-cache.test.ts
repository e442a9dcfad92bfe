import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Config } from '@oclif/core';
import { redact } from '@latchkey/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { providerCachePath, readProviderCache, writeProviderCache } from './provider-cache.js';
import type { StaticProvider } from './providers.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-cache-'));
  env = { LATCHKEY_CACHE_DIR: join(dir, 'cache'), LATCHKEY_CONFIG_DIR: join(dir, 'config') };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const provider: StaticProvider = {
  plugin: 'p',
  manifest: {
    id: 'alpha',
    title: 'Alpha',
    defaultBaseUrl: 'https://a.example',
    envVars: ['ALPHA_KEY'],
    methods: ['token'],
  },
};

async function fakeConfig(): Promise<Config> {
  await writeFile(join(dir, 'package.json'), '{}');
  return { dataDir: join(dir, 'data'), plugins: new Map([['p', { root: dir }]]) } as unknown as Config;
}

describe('provider cache', () => {
  it('returns what was written while the watched files are unchanged', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    expect(await readProviderCache(env)).toEqual(new Map([['alpha', provider]]));
  });

  it('is ignored once a plugin package.json changes', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    await utimes(join(dir, 'package.json'), new Date(), new Date(Date.now() + 5000));
    expect(await readProviderCache(env)).toBeUndefined();
  });

  it('is ignored once a user plugin list appears (a plugin was installed)', async () => {
    const config = await fakeConfig();
    await writeProviderCache(config, new Map([['alpha', provider]]), env);
    await rm(join(dir, 'data'), { recursive: true, force: true });
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'package.json'), '{"oclif":{"plugins":[]}}');
    expect(await readProviderCache(env)).toBeUndefined();
  });

  it('is ignored when missing or corrupt', async () => {
    expect(await readProviderCache(env)).toBeUndefined();
    await mkdir(join(dir, 'cache'));
    await writeFile(providerCachePath(env), 'not json');
    expect(await readProviderCache(env)).toBeUndefined();
  });

  it('registers the declared token prefixes with redaction when read', async () => {
    const withPrefix = { ...provider, manifest: { ...provider.manifest, secretPrefixes: ['qq_cache_'] } };
    await writeProviderCache(await fakeConfig(), new Map([['alpha', withPrefix]]), env);
    const leaked = 'qq_cache_0123456789abcdefXYZ';
    expect(redact(leaked)).toBe(leaked);
    await readProviderCache(env);
    expect(redact(`got ${leaked}`)).toBe('got qq_cache_01234567...');
  });

  it('writes atomically: a failed write leaves no temp file behind', async () => {
    await mkdir(join(providerCachePath(env), 'in-the-way'), { recursive: true });
    await expect(
      writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env),
    ).rejects.toThrow();
    expect(await readdir(join(dir, 'cache'))).toEqual([basename(providerCachePath(env))]);
  });

  it('is one file per set-up: another config dir neither sees these providers nor replaces them', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    const other = { ...env, LATCHKEY_CONFIG_DIR: join(dir, 'other-config') };
    expect(providerCachePath(other)).not.toBe(providerCachePath(env));
    expect(await readProviderCache(other)).toBeUndefined();
    expect([...(await readProviderCache(env))!.keys()]).toEqual(['alpha']);
  });
});
