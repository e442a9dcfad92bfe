/**
 * The info cache and the fast answers' decisions (src/fast-info.ts, host/info-cache.ts) with a temporary
 * directory and a fake oclif config: which forms are answered, when the cache is trusted, and when `auth
 * status` has nothing to show. The bytes themselves are compared with the full CLI's in
 * e2e/fast-info.e2e.test.ts.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@oclif/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { infoForm, keepingColour, nothingStored } from './fast-info.js';
import { helpKey, infoCachePath, readInfoCache, updateInfoCache, type InfoCache } from './host/info-cache.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let plugin: string;
let config: Config;
const configDir = () => join(dir, 'config');

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-info-'));
  env = { LATCHKEY_CACHE_DIR: join(dir, 'cache') };
  plugin = join(dir, 'plugin');
  await mkdir(plugin);
  await writeFile(join(plugin, 'package.json'), '{}');
  config = {
    dataDir: join(dir, 'data'),
    userAgent: '@latchkey/cli/1.0.0 linux-x64 node-v22.0.0',
    plugins: new Map([['p', { root: plugin, hooks: {} }]]),
  } as unknown as Config;
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const listing = (over: Partial<NonNullable<InfoCache['providers']>> = {}): InfoCache['providers'] => ({
  providers: [
    {
      id: 'acme',
      title: 'Acme',
      methods: ['token'],
      envVars: ['ACME_API_KEY', 'LATCHKEY_ACME_TOKEN'],
      defaultBaseUrl: 'https://acme.example',
      loginOptions: [],
      plugin: 'latchkey-plugin-acme@1.0.0',
    },
  ],
  broken: [],
  conflicts: [],
  ...over,
});

describe('infoForm: only the plain forms', () => {
  it.each([
    [[], 'help'],
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['--version'], 'version'],
    [['-v'], 'version'],
    [['auth', 'providers'], 'providers'],
    [['auth', 'status'], 'status'],
    [['--version', '--verbose'], undefined],
    [['auth', 'providers', '--json'], undefined],
    [['auth', 'status', 'acme'], undefined],
    [['auth', '--help'], undefined],
    [['help'], undefined],
    [['auth'], undefined],
    [['auth', 'login'], undefined],
  ])('%j → %s', (args, form) => expect(infoForm(args)).toBe(form));
});

describe('the info cache', () => {
  it('is read back while nothing it was built from changed', async () => {
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = config.userAgent));
    expect(readInfoCache(env, configDir())?.userAgent).toBe(config.userAgent);
  });

  it("is not trusted once a plugin's package.json changed, or for another configuration directory", async () => {
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = config.userAgent));
    expect(readInfoCache(env, join(dir, 'elsewhere'))).toBeUndefined();
    await utimes(join(plugin, 'package.json'), new Date(), new Date(Date.now() + 5000));
    expect(readInfoCache(env, configDir())).toBeUndefined();
  });

  it('is not trusted when a user plugin list appears (null mtime → a file)', async () => {
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = config.userAgent));
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'data', 'package.json'), '{}');
    expect(readInfoCache(env, configDir())).toBeUndefined();
  });

  it('is never used when a plugin has an init hook (oclif runs it before anything)', async () => {
    config.plugins.set('hooked', { root: plugin, hooks: { init: [{ target: './init.js' }] } } as never);
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = config.userAgent));
    expect(readInfoCache(env, configDir())).toBeUndefined();
  });

  it('keeps what it had while the files are unchanged, starts afresh when they changed', async () => {
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = config.userAgent));
    await updateInfoCache(config, env, configDir(), (c) => void (c.providers = listing()));
    expect(readInfoCache(env, configDir())).toMatchObject({
      userAgent: config.userAgent,
      providers: listing(),
    });
    await utimes(join(plugin, 'package.json'), new Date(), new Date(Date.now() + 5000));
    await updateInfoCache(config, env, configDir(), () => undefined);
    const cache = readInfoCache(env, configDir());
    expect(cache?.userAgent).toBeUndefined();
    expect(cache?.providers).toBeUndefined();
  });

  it('plugins loaded in another order (oclif loads them concurrently) keep every remembered answer', async () => {
    const second = join(dir, 'second');
    await mkdir(second);
    await writeFile(join(second, 'package.json'), '{}');
    const plugins = (order: string[]) =>
      ({
        ...config,
        plugins: new Map(order.map((root) => [root, { root, hooks: {} }])),
      }) as unknown as Config;
    await updateInfoCache(
      plugins([plugin, second]),
      env,
      configDir(),
      (c) => void ((c.help ??= {}).k = 'page'),
    );
    await updateInfoCache(plugins([second, plugin]), env, configDir(), (c) => void (c.providers = listing()));
    expect(readInfoCache(env, configDir())).toMatchObject({ help: { k: 'page' }, providers: listing() });
  });

  it('keeps at most 8 help pages, the newest', async () => {
    for (let i = 0; i < 10; i += 1) {
      await updateInfoCache(config, env, configDir(), (c) => void ((c.help ??= {})[`k${i}`] = `page ${i}`));
    }
    expect(Object.keys(readInfoCache(env, configDir())?.help ?? {})).toEqual([
      'k2',
      'k3',
      'k4',
      'k5',
      'k6',
      'k7',
      'k8',
      'k9',
    ]);
  });

  it('an unreadable cache file is no cache, and is replaced by the next write', async () => {
    await mkdir(join(dir, 'cache'), { mode: 0o700 });
    await writeFile(infoCachePath(env), '{not json', { mode: 0o600 });
    expect(readInfoCache(env, configDir())).toBeUndefined();
    await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = 'x'));
    expect(JSON.parse(await readFile(infoCachePath(env), 'utf8'))).toMatchObject({ userAgent: 'x' });
  });

  it.runIf(process.platform !== 'win32')(
    'is not used, with a debug line, in a cache dir others may write to, nor from a file with group/other bits',
    async () => {
      await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = 'x'));
      expect(readInfoCache(env, configDir())).toMatchObject({ userAgent: 'x' });
      const lines: string[] = [];
      await chmod(join(dir, 'cache'), 0o777);
      expect(readInfoCache(env, configDir(), (line) => lines.push(line))).toBeUndefined();
      // Nor written there.
      await updateInfoCache(config, env, configDir(), (c) => void (c.userAgent = 'y'));
      expect(JSON.parse(await readFile(infoCachePath(env), 'utf8'))).toMatchObject({ userAgent: 'x' });
      await chmod(join(dir, 'cache'), 0o700);
      await chmod(infoCachePath(env), 0o666);
      expect(readInfoCache(env, configDir(), (line) => lines.push(line))).toBeUndefined();
      expect(lines).toEqual([
        expect.stringMatching(/cache dir .* not used: it has mode 0777/),
        expect.stringMatching(/cache .*info-.* not used: it has mode 0666/),
      ]);
    },
  );

  it('keepingColour: a cached page keeps its colours, loses every other control (OSC 52, titles, CSI moves)', () => {
    const page =
      '\x1b[1mUSAGE\x1b[22m\n  $ latchkey\x1b]52;c;ZXZpbA==\x07 \x1b]0;owned\x07\x1b[2J\x9b31m\r\n';
    expect(keepingColour(page)).toBe('\x1b[1mUSAGE\x1b[22m\n  $ latchkey \n');
  });

  it('helpKey: a pipe, a terminal of some width, and the colour and width variables each give their own page', () => {
    const keys = new Set([
      helpKey({}, { isTTY: false }),
      helpKey({}, { isTTY: true, columns: 80 }),
      helpKey({}, { isTTY: true, columns: 120 }),
      helpKey({ OCLIF_COLUMNS: '100' }, { isTTY: false }),
      helpKey({ NO_COLOR: '1' }, { isTTY: false }),
      helpKey({ FORCE_COLOR: '1' }, { isTTY: false }),
    ]);
    expect(keys.size).toBe(6);
    expect(helpKey({ UNRELATED: '1' }, { isTTY: false, columns: 50 })).toBe(helpKey({}, { isTTY: false }));
  });
});

describe('nothingStored: when `auth status` can say "Not signed in" without oclif', () => {
  it('nothing anywhere: yes', () => {
    expect(nothingStored(listing(), {}, configDir())).toBe(true);
  });

  it.each([
    ["the provider's own variable", { ACME_API_KEY: 'k' }],
    ['LATCHKEY_<ID>_TOKEN', { LATCHKEY_ACME_TOKEN: 'k' }],
    ['an account chosen by LATCHKEY_<ID>_ACCOUNT', { LATCHKEY_ACME_ACCOUNT: 'work' }],
    ['the keychain chosen', { LATCHKEY_STORAGE: 'keychain' }],
    ['debug output', { LATCHKEY_DEBUG: '1' }],
  ])('%s: no', (_, set) => {
    expect(nothingStored(listing(), set, configDir())).toBe(false);
  });

  it('a blank variable counts as unset', () => {
    expect(nothingStored(listing(), { ACME_API_KEY: '  ', LATCHKEY_STORAGE: 'file' }, configDir())).toBe(
      true,
    );
  });

  it.each(['accounts.json', 'credentials.enc'])('%s in the configuration directory: no', async (file) => {
    await mkdir(configDir());
    await writeFile(join(configDir(), file), '{}');
    expect(nothingStored(listing(), {}, configDir())).toBe(false);
  });

  it('no listing, a conflict or a broken plugin: no', () => {
    expect(nothingStored(undefined, {}, configDir())).toBe(false);
    expect(
      nothingStored(listing({ conflicts: [{ id: 'acme', winner: 'a', ignored: ['b'] }] }), {}, configDir()),
    ).toBe(false);
    expect(nothingStored(listing({ broken: [{ plugin: 'b', reason: 'r' }] }), {}, configDir())).toBe(false);
  });
});
