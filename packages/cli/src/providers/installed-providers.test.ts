import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '@latchkey/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundledProviders } from './bundled-providers.js';
import { installedProviders, MAX_PACKAGE_JSON_BYTES, readProviders } from './installed-providers.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-installed-'));
  env = {
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
  };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const manifest = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  title: id.toUpperCase(),
  defaultBaseUrl: `https://${id}.example`,
  envVars: [`${id.toUpperCase()}_KEY`],
  methods: ['token'],
  execEnv: { [`${id.toUpperCase()}_KEY`]: 'token' },
  ...extra,
});
const bundledIds = bundledProviders().map((p) => p.manifest.id);

/** oclif's data dir listing `plugins` (its package.json, as `plugins install` and `plugins link` leave it). */
async function listPlugins(plugins: unknown): Promise<void> {
  await mkdir(join(dir, 'data'), { recursive: true });
  await writeFile(
    join(dir, 'data', 'package.json'),
    JSON.stringify({ private: true, oclif: { schema: 1, plugins } }),
  );
}

/** A plugin's package.json at `root`. */
async function plugin(root: string, pjson: Record<string, unknown>): Promise<void> {
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'package.json'), JSON.stringify(pjson));
}

/** The ids known beyond the bundled ones, and whether that is every provider. */
async function known() {
  const { providers, complete } = await readProviders(env);
  return { others: [...providers.keys()].filter((id) => !bundledIds.includes(id)), complete };
}

describe('the providers the fast paths know', () => {
  it('are the bundled ones, complete, when no plugin was ever installed; nothing is written anywhere', async () => {
    expect(bundledIds).toEqual(expect.arrayContaining(['kaneo', 'nanoctl', 'nanogpt', 'nanoterm']));
    expect(await known()).toEqual({ others: [], complete: true });
    expect(await readdir(dir)).toEqual([]);
  });

  it("include a user-installed plugin's and a linked plugin's declared providers, read from their package.json", async () => {
    await plugin(join(dir, 'data', 'node_modules', 'latchkey-plugin-alpha'), {
      name: 'latchkey-plugin-alpha',
      latchkey: { provider: manifest('alpha') },
    });
    await plugin(join(dir, 'linked'), {
      name: 'latchkey-plugin-beta',
      latchkey: { provider: [manifest('beta'), manifest('gamma')] },
    });
    await listPlugins([
      { type: 'user', name: 'latchkey-plugin-alpha', tag: 'latest' },
      { type: 'link', name: 'latchkey-plugin-beta', root: join(dir, 'linked') },
    ]);
    const { providers, complete } = await readProviders(env);
    expect(complete).toBe(true);
    expect(providers.get('alpha')).toEqual({ plugin: 'latchkey-plugin-alpha', manifest: manifest('alpha') });
    expect(providers.get('gamma')?.plugin).toBe('latchkey-plugin-beta');
    // A change is seen on the next run: there is no cache to go stale.
    await plugin(join(dir, 'linked'), {
      name: 'latchkey-plugin-beta',
      latchkey: { provider: manifest('delta') },
    });
    expect(await known()).toEqual({ others: ['alpha', 'delta'], complete: true });
  });

  it("skip a manifest that fails the validator (an LD_PRELOAD execEnv), as the full CLI's static list does", async () => {
    await plugin(join(dir, 'linked'), {
      name: 'evil',
      latchkey: {
        provider: [manifest('evil', { execEnv: { LD_PRELOAD: 'base-url' } }), manifest('fine')],
      },
    });
    await listPlugins([{ type: 'link', name: 'evil', root: join(dir, 'linked') }]);
    expect(await known()).toEqual({ others: ['fine'], complete: true });
  });

  it('never let a plugin replace a bundled provider, nor a plugin named like a bundled one be read', async () => {
    const bundled = bundledProviders()[0]!;
    await plugin(join(dir, 'linked'), {
      name: 'other',
      latchkey: { provider: { ...bundled.manifest, defaultBaseUrl: 'https://attacker.example' } },
    });
    await plugin(join(dir, 'data', 'node_modules', bundled.plugin), {
      name: bundled.plugin,
      latchkey: { provider: manifest('shadow') },
    });
    await listPlugins([
      { type: 'user', name: bundled.plugin },
      { type: 'link', name: 'other', root: join(dir, 'linked') },
    ]);
    const { providers, complete } = await readProviders(env);
    expect(complete).toBe(true);
    expect(providers.get(bundled.manifest.id)).toEqual(bundled);
    expect(providers.has('shadow')).toBe(false);
  });

  it.each([
    ['the list is not JSON', async () => writeFile(join(dir, 'data', 'package.json'), '{')],
    ['the list is not an object', async () => writeFile(join(dir, 'data', 'package.json'), '[]')],
    [
      'oclif.plugins is not a list',
      async () => writeFile(join(dir, 'data', 'package.json'), '{"oclif":{"plugins":{}}}'),
    ],
    ['a listed plugin is missing', async () => listPlugins([{ type: 'user', name: 'gone' }])],
    ['a linked plugin has no root', async () => listPlugins([{ type: 'link', name: 'x' }])],
    ['an entry has no name', async () => listPlugins([{ type: 'user' }])],
    [
      'a plugin brings plugins of its own',
      async () => {
        await plugin(join(dir, 'p'), { name: 'p', oclif: { plugins: ['q'] } });
        await listPlugins([{ type: 'link', name: 'p', root: join(dir, 'p') }]);
      },
    ],
    [
      'a package.json is larger than the bound',
      async () => {
        await mkdir(join(dir, 'p'), { recursive: true });
        await writeFile(join(dir, 'p', 'package.json'), ' '.repeat(MAX_PACKAGE_JSON_BYTES + 1));
        await listPlugins([{ type: 'link', name: 'p', root: join(dir, 'p') }]);
      },
    ],
    [
      'a package.json path loops',
      async () => {
        await mkdir(join(dir, 'p'), { recursive: true });
        await symlink(join(dir, 'p', 'package.json'), join(dir, 'p', 'package.json'));
        await listPlugins([{ type: 'link', name: 'p', root: join(dir, 'p') }]);
      },
    ],
    [
      'a package.json is a directory',
      async () => {
        await mkdir(join(dir, 'p', 'package.json'), { recursive: true });
        await listPlugins([{ type: 'link', name: 'p', root: join(dir, 'p') }]);
      },
    ],
  ])('are the bundled ones and "not complete" (the full CLI answers) when %s', async (_, setUp) => {
    await mkdir(join(dir, 'data'), { recursive: true });
    await setUp();
    expect(await known()).toEqual({ others: [], complete: false });
    expect(installedProviders(env)).toBeUndefined();
  });

  it('read providers.json itself, with its checks', async () => {
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
    const first = await readProviders(env);
    expect(first.complete).toBe(true);
    expect(first.providers.get('corp-idp')).toMatchObject({
      plugin: 'configured',
      manifest: { id: 'corp-idp', defaultBaseUrl: 'https://idp.example' },
    });
    // A providers.json others may write to is refused here as everywhere (STORAGE_INSECURE).
    await chmod(join(dir, 'config', 'providers.json'), 0o666);
    await expect(readProviders(env)).rejects.toMatchObject({ code: 'STORAGE_INSECURE' });
  });

  it("register a plugin's declared token prefixes with redaction", async () => {
    await plugin(join(dir, 'p'), {
      name: 'p',
      latchkey: { provider: manifest('pfx', { secretPrefixes: ['qq_inst_'] }) },
    });
    await listPlugins([{ type: 'link', name: 'p', root: join(dir, 'p') }]);
    const leaked = 'qq_inst_0123456789abcdefXYZ';
    expect(redact(leaked)).toBe(leaked);
    await readProviders(env);
    expect(redact(`got ${leaked}`)).toBe('got qq_inst_...fXYZ');
  });
});
