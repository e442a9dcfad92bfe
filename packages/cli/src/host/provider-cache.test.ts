import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Config } from '@oclif/core';
import { redact } from '@latchkey/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledProviders } from './bundled-providers.js';
import { providerCachePath, readProviders, writeProviderCache } from './provider-cache.js';
import type { StaticProvider } from './providers.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let debug: string[];
const log = (line: string) => debug.push(line);
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-cache-'));
  env = {
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
  };
  debug = [];
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
    execEnv: { ALPHA_KEY: 'token' },
  },
};
const bundledIds = bundledProviders().map((p) => p.manifest.id);

/** A set-up with one user-installed plugin (`p`, at `dir`): oclif's data dir lists it. */
async function fakeConfig(): Promise<Config> {
  await writeFile(join(dir, 'package.json'), '{}');
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(join(dir, 'data', 'package.json'), '{"oclif":{"plugins":[{"type":"link","root":"."}]}}');
  return { dataDir: join(dir, 'data'), plugins: new Map([['p', { root: dir }]]) } as unknown as Config;
}

/** What the fast path reads: the ids it knows beyond the bundled ones, and whether the cache was used. */
async function known(e: NodeJS.ProcessEnv = env) {
  const { providers, complete } = await readProviders(e, log);
  return { others: [...providers.keys()].filter((id) => !bundledIds.includes(id)), complete };
}

/** Rewrites the cache file's JSON (keeping its owner and mode 0600). */
async function poison(edit: (cache: { providers: StaticProvider[] }) => void): Promise<void> {
  const file = providerCachePath(env);
  const cache = JSON.parse(await readFile(file, 'utf8')) as { providers: StaticProvider[] };
  edit(cache);
  await writeFile(file, JSON.stringify(cache));
}

describe('provider cache', () => {
  it('knows every provider with no cache at all when no plugin was ever installed (the first run)', async () => {
    expect(bundledIds).toEqual(expect.arrayContaining(['kaneo', 'nanoctl', 'nanogpt', 'nanoterm']));
    const { providers, complete } = await readProviders(env, log);
    expect([...providers.keys()].sort()).toEqual([...bundledIds].sort());
    expect(complete).toBe(true);
    expect(debug).toEqual([]);
    // Nothing was read or written in the cache dir.
    await expect(readdir(join(dir, 'cache'))).rejects.toThrow(/ENOENT/);
  });

  it('knows the bundled providers only, and says the list is not complete, when plugins are installed and there is no cache', async () => {
    await fakeConfig();
    const { providers, complete } = await readProviders(env, log);
    expect([...providers.keys()].sort()).toEqual([...bundledIds].sort());
    expect(complete).toBe(false);
    expect(debug).toEqual([]); // no cache yet is not worth a line
  });

  it('reads the configured providers from providers.json itself, never from the cache', async () => {
    await mkdir(join(dir, 'config'), { mode: 0o700 });
    const definitions = {
      version: 1,
      providers: {
        'corp-idp': {
          clientId: 'cli',
          deviceAuthorizationUrl: 'https://idp.example/device',
          tokenUrl: 'https://idp.example/token',
          baseUrl: 'https://idp.example',
          addedAt: '2026-01-01T00:00:00.000Z',
          encoding: 'form',
        },
      },
    };
    await writeFile(join(dir, 'config', 'providers.json'), JSON.stringify(definitions), { mode: 0o600 });
    const first = await readProviders(env, log);
    expect(first.complete).toBe(true);
    expect(first.providers.get('corp-idp')).toMatchObject({
      plugin: 'configured',
      manifest: { id: 'corp-idp', defaultBaseUrl: 'https://idp.example' },
    });
    // The full CLI's write leaves them out (the cache holds plugins' providers only).
    await writeProviderCache(
      await fakeConfig(),
      new Map([['corp-idp', first.providers.get('corp-idp')!]]),
      env,
    );
    expect(JSON.parse(await readFile(providerCachePath(env), 'utf8')).providers).toEqual([]);
    // A providers.json others may write to is refused here as everywhere (STORAGE_INSECURE).
    await chmod(join(dir, 'config', 'providers.json'), 0o666);
    await expect(readProviders(env, log)).rejects.toMatchObject({ code: 'STORAGE_INSECURE' });
  });

  it('returns what was written while the watched files are unchanged', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    expect((await readProviders(env, log)).providers.get('alpha')).toEqual(provider);
    expect(await known()).toEqual({ others: ['alpha'], complete: true });
  });

  it('does not write the bundled providers, and a cached entry never replaces a bundled one', async () => {
    const nanogpt = bundledProviders().find((p) => p.manifest.id === 'nanogpt')!;
    const impostor: StaticProvider = {
      plugin: 'evil',
      manifest: { ...nanogpt.manifest, defaultBaseUrl: 'https://attacker.example' },
    };
    await writeProviderCache(await fakeConfig(), new Map([['nanogpt', nanogpt]]), env);
    expect(JSON.parse(await readFile(providerCachePath(env), 'utf8')).providers).toEqual([]);
    await poison((cache) => cache.providers.push(impostor));
    expect((await readProviders(env, log)).providers.get('nanogpt')).toEqual(nanogpt);
  });

  it('is ignored once a plugin package.json changes', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    await utimes(join(dir, 'package.json'), new Date(), new Date(Date.now() + 5000));
    expect(await known()).toEqual({ others: [], complete: false });
  });

  it('is ignored once the user plugin list changes (a plugin was installed or removed)', async () => {
    const config = await fakeConfig();
    await writeProviderCache(config, new Map([['alpha', provider]]), env);
    const list = join(dir, 'data', 'package.json');
    await utimes(list, new Date(), new Date(Date.now() + 5000));
    expect(await known()).toEqual({ others: [], complete: false });
  });

  it('is ignored when missing or corrupt', async () => {
    await fakeConfig();
    expect(await known()).toEqual({ others: [], complete: false });
    await mkdir(join(dir, 'cache'), { mode: 0o700 });
    await writeFile(providerCachePath(env), 'not json', { mode: 0o600 });
    expect(await known()).toEqual({ others: [], complete: false });
    expect(debug.join('\n')).toContain('not JSON');
  });

  it.each([
    ['an LD_PRELOAD execEnv', (p: StaticProvider) => (p.manifest.execEnv = { LD_PRELOAD: 'base-url' })],
    ['a NODE_OPTIONS execEnv', (p: StaticProvider) => (p.manifest.execEnv = { NODE_OPTIONS: 'token' })],
    ['a PATH execEnv', (p: StaticProvider) => (p.manifest.execEnv = { PATH: 'base-url' })],
    ['an http:// base URL', (p: StaticProvider) => (p.manifest.defaultBaseUrl = 'http://attacker.example')],
    ['an http:// token URL', (p: StaticProvider) => (p.manifest.tokenUrl = 'http://attacker.example/t')],
    ['no plugin name', (p: StaticProvider) => delete (p as Partial<StaticProvider>).plugin],
  ])('is ignored, with a debug line, when a provider in it has %s', async (_what, edit) => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    await poison((cache) => edit(cache.providers[0]!));
    expect(await known()).toEqual({ others: [], complete: false });
    expect(debug).toHaveLength(1);
    expect(debug[0]).toContain('ignored (rebuilt by the next full run)');
    // The full CLI's next write replaces it.
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    expect((await known()).complete).toBe(true);
  });

  it.runIf(process.platform !== 'win32')(
    'is not used, with a debug line, from a directory others may write to or a file with group/other bits',
    async () => {
      await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
      await chmod(join(dir, 'cache'), 0o777);
      expect(await known()).toEqual({ others: [], complete: false });
      expect(debug.pop()).toMatch(/cache dir .* not used: it has mode 0777, not 0700\/0600/);
      await chmod(join(dir, 'cache'), 0o700);
      await chmod(providerCachePath(env), 0o644);
      expect(await known()).toEqual({ others: [], complete: false });
      expect(debug.pop()).toMatch(/not used: it has mode 0644/);
    },
  );

  it('is not used through a symlink, nor when the cache path loops', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    const real = join(dir, 'cache', 'real.json');
    await writeFile(real, await readFile(providerCachePath(env)), { mode: 0o600 });
    await rm(providerCachePath(env));
    await symlink(real, providerCachePath(env));
    expect(await known()).toEqual({ others: [], complete: false });
    expect(debug.pop()).toContain('cannot open it (ELOOP)');
    const loop = join(dir, 'loop');
    await symlink(loop, loop);
    expect(await known({ ...env, LATCHKEY_CACHE_DIR: loop })).toEqual({ others: [], complete: false });
    expect(debug.pop()).toContain('cannot read it (ELOOP)');
    // Writing there is no error either.
    await writeProviderCache(
      await fakeConfig(),
      new Map([['alpha', provider]]),
      { ...env, LATCHKEY_CACHE_DIR: loop },
      log,
    );
    expect(debug.pop()).toContain('not written to: cannot read it (ELOOP)');
  });

  it('is not read when larger than 1 MiB', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    await writeFile(providerCachePath(env), ' '.repeat(1024 * 1024 + 1));
    expect(await known()).toEqual({ others: [], complete: false });
    expect(debug.pop()).toContain('larger than 1048576 bytes');
  });

  it('registers the declared token prefixes with redaction when read', async () => {
    const withPrefix = { ...provider, manifest: { ...provider.manifest, secretPrefixes: ['qq_cache_'] } };
    await writeProviderCache(await fakeConfig(), new Map([['alpha', withPrefix]]), env);
    const leaked = 'qq_cache_0123456789abcdefXYZ';
    expect(redact(leaked)).toBe(leaked);
    await readProviders(env, log);
    expect(redact(`got ${leaked}`)).toBe('got qq_cache_01234567...');
  });

  it('writes atomically: a failed write leaves no temp file behind, and is no error', async () => {
    await mkdir(join(providerCachePath(env), 'in-the-way'), { recursive: true });
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env, log);
    expect(debug.pop()).toContain('not written');
    expect(await readdir(join(dir, 'cache'))).toEqual([basename(providerCachePath(env))]);
  });

  it('creates the cache dir 0700', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    const { stat } = await import('node:fs/promises');
    expect((await stat(join(dir, 'cache'))).mode & 0o777).toBe(0o700);
    expect((await stat(providerCachePath(env))).mode & 0o777).toBe(0o600);
  });

  it('is one file per set-up: another config dir neither sees these providers nor replaces them', async () => {
    await writeProviderCache(await fakeConfig(), new Map([['alpha', provider]]), env);
    const other = { ...env, LATCHKEY_CONFIG_DIR: join(dir, 'other-config') };
    expect(providerCachePath(other)).not.toBe(providerCachePath(env));
    expect(await known(other)).toEqual({ others: [], complete: false });
    expect(await known()).toEqual({ others: ['alpha'], complete: true });
  });
});
