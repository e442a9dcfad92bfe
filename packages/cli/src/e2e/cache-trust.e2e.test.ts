/**
 * Nothing read from the cache dir changes what runs, where a secret goes, or what is printed raw (issues
 * 20, 21): through the built binary. latchkey keeps no start-up cache (only Node's compile cache, checked in
 * compile-cache.e2e): a provider cache planted there is never read; the providers of linked plugins come from
 * their package.json through the manifest validator on every run; unreadable or looping cache paths are no
 * cache, never a crash. The unreadable case runs the commands as a throw-away user (`useradd`, removed
 * afterwards) when the tests run as root, since root reads through mode 000.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RUN_TIMEOUT_MS } from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
const root = process.getuid?.() === 0;
const token = 'sk-nano-cachetrust0123456789abcdef';
/** Prints the variables an attacker would want set, as JSON (node is on every test machine). */
const probe = [
  process.execPath,
  '-e',
  'const e=process.env;process.stdout.write(JSON.stringify({pre:e.LD_PRELOAD??null,url:e.OPENAI_BASE_URL??null,acme:e.ACME_URL??null,key:e.NANOGPT_API_KEY??null}))',
];
let dir: string;
let env: NodeJS.ProcessEnv;
let cache: string;

/** A throw-away user (root only), made once for the file and removed afterwards. */
let other: { name: string; uid: number; gid: number } | undefined;

beforeAll(() => {
  if (!root) return;
  const name = `lkc${randomBytes(4).toString('hex')}`;
  const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name], {
    encoding: 'utf8',
  });
  expect(made.status, made.stderr).toBe(0);
  const ids = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gids = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  other = { name, uid: Number(ids.stdout.trim()), gid: Number(gids.stdout.trim()) };
});
afterAll(() => {
  if (other) spawnSync('userdel', [other.name]);
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-cache-trust-'));
  cache = join(dir, 'cache');
  env = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_CACHE_DIR: cache,
    NO_COLOR: '1',
    TERM: 'dumb',
  };
  // oclif's list of user-installed plugins, as `plugins install` and `uninstall` leave it: with one, the
  // fast paths need the provider cache to know every provider (without one, nothing is cached at all).
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'package.json'), '{"private":true,"oclif":{"schema":1,"plugins":[]}}');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function latchkey(args: string[], extra: NodeJS.ProcessEnv = {}, as?: { uid: number; gid: number }) {
  const run = spawnSync(process.execPath, [bin, ...args], {
    env: { ...env, ...extra },
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    ...(as && { uid: as.uid, gid: as.gid }),
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** No Node stack trace, no uncaught error: what "never a crash" looks like on stderr. */
function expectNoCrash(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at |node:internal|node:fs|Error: E[A-Z]+/);
}

/** A third-party provider's manifest as a plugin's package.json declares it. */
const acme = (execEnv: Record<string, string>, url = 'https://attacker.example') => ({
  id: 'acme',
  title: 'Acme',
  defaultBaseUrl: url,
  envVars: ['ACME_KEY'],
  methods: ['token'],
  execEnv,
});

/** A linked plugin declaring `provider`, listed in oclif's data dir as `plugins link` leaves it. */
function linkPlugin(provider: unknown): void {
  const root = join(dir, 'acme');
  mkdirSync(root, { recursive: true });
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({ name: 'latchkey-plugin-acme', version: '1.0.0', oclif: {}, latchkey: { provider } }),
  );
  writeFileSync(
    join(dir, 'data', 'package.json'),
    JSON.stringify({
      private: true,
      oclif: { schema: 1, plugins: [{ type: 'link', name: 'latchkey-plugin-acme', root }] },
    }),
  );
}

describe('no start-up cache', () => {
  it('a provider cache planted in the cache dir (an LD_PRELOAD for a bundled provider, an attacker provider) is never read, and none is written', () => {
    mkdirSync(cache, { recursive: true, mode: 0o700 });
    const planted = {
      version: 2,
      watch: [],
      providers: [
        {
          plugin: '@latchkey/plugin-nanogpt',
          manifest: {
            id: 'nanogpt',
            title: 'NanoGPT',
            defaultBaseUrl: 'https://attacker.example',
            envVars: ['NANOGPT_API_KEY'],
            methods: ['token'],
            execEnv: { NANOGPT_API_KEY: 'token', LD_PRELOAD: 'base-url', OPENAI_BASE_URL: 'base-url' },
          },
        },
        { plugin: 'latchkey-plugin-acme', manifest: acme({ ACME_KEY: 'token', ACME_URL: 'base-url' }) },
      ],
    };
    for (const name of ['providers-00000000.json', 'providers.json', 'info.json'])
      writeFileSync(join(cache, name), JSON.stringify(planted), { mode: 0o600 });
    const run = latchkey(['exec', '--provider', 'nanogpt', '--', ...probe], { NANOGPT_API_KEY: token });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      pre: null,
      url: null,
      acme: null,
      key: '<concealed by latchkey>',
    });
    const other = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
    });
    expect(other.code, other.stderr).toBe(2);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('Unknown provider "acme"');
    // auth token, exec and the full CLI wrote nothing but Node's compile cache.
    expect(latchkey(['auth', 'token'], { NANOGPT_API_KEY: token }).stdout).toBe(`${token}\n`);
    expect(readdirSync(cache).sort()).toEqual([
      'compile',
      'info.json',
      'providers-00000000.json',
      'providers.json',
    ]);
  });

  it("a linked plugin's manifest with an LD_PRELOAD execEnv is refused by the validator: the command never runs", () => {
    linkPlugin(acme({ ACME_KEY: 'token', LD_PRELOAD: 'base-url' }));
    const run = latchkey(['exec', '--provider', 'acme', '--', ...probe], { ACME_KEY: 'acme-key-0123456789' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Unknown provider "acme"');
  });

  it("a linked plugin's provider is read from its package.json on every run: a change is seen at once", () => {
    linkPlugin(acme({ ACME_KEY: 'token', ACME_URL: 'base-url' }, 'https://one.example'));
    const first = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
    });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ acme: 'https://one.example', key: null });
    linkPlugin(acme({ ACME_KEY: 'token', ACME_URL: 'base-url' }, 'https://two.example'));
    const second = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
    });
    expect(JSON.parse(second.stdout)).toMatchObject({ acme: 'https://two.example' });
    const bare = latchkey(['auth', 'token'], { ACME_KEY: 'acme-key-0123456789' });
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toBe('acme-key-0123456789\n');
  });

  it("a linked plugin's secretPrefixes mask its keys in auth token's errors, also with a bundled provider named", () => {
    linkPlugin({ ...acme({ ACME_KEY: 'token' }), secretPrefixes: ['acme_live_'] });
    const key = 'acme_live_0123456789abcdefXYZW';
    // What was typed is echoed back: a key pasted as the account name (or set as the account variable).
    for (const [args, extra] of [
      [['auth', 'token', '--provider', 'nanogpt', '--account', key], {}],
      [['auth', 'token', 'nanogpt'], { LATCHKEY_NANOGPT_ACCOUNT: key }],
      [['auth', 'token', '--account', key], {}],
    ] as const) {
      const run = latchkey([...args], extra);
      expect(run.code, run.stderr).toBe(4);
      expect(run.stderr).toContain("account named 'acme_live_...XYZW'");
      expect(`${run.stdout}${run.stderr}`).not.toContain(key);
    }
  });
});

describe('an unreadable or looping cache path is no cache, never a crash', () => {
  const commands: Array<{ args: string[]; out: (stdout: string) => void }> = [
    { args: ['--version'], out: (s) => expect(s).toMatch(/^@latchkey\/cli\//) },
    { args: ['auth', 'token', '--provider', 'nanogpt'], out: (s) => expect(s).toBe(`${token}\n`) },
    {
      args: ['exec', '--provider', 'nanogpt', '--', ...probe],
      out: (s) => expect(JSON.parse(s)).toMatchObject({ key: '<concealed by latchkey>', pre: null }),
    },
  ];

  it('a symlink loop as the cache dir: --version, auth token, exec', () => {
    const loop = join(dir, 'loop');
    symlinkSync(loop, loop);
    for (const { args, out } of commands) {
      for (const extra of [{}, { LATCHKEY_DEBUG: '1' }]) {
        const run = latchkey(args, { LATCHKEY_CACHE_DIR: loop, NANOGPT_API_KEY: token, ...extra });
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
        out(run.stdout);
        expectNoCrash(run.stderr);
      }
    }
  });

  it('a cache dir that cannot be read (a parent with mode 000): --version, auth token, exec', () => {
    // As root, permissions do not stop reading: the commands run as a throw-away user instead.
    const home = join(dir, 'user');
    mkdirSync(home, { mode: 0o700 });
    const locked = join(home, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    mkdirSync(join(locked, 'cache'), { mode: 0o700 });
    const as = other && { uid: other.uid, gid: other.gid };
    if (as) {
      chmodSync(dir, 0o711);
      for (const d of [home, locked, join(locked, 'cache')]) chownSync(d, as.uid, as.gid);
    }
    chmodSync(locked, 0o000);
    try {
      for (const { args, out } of commands) {
        const run = latchkey(
          args,
          {
            HOME: home,
            LATCHKEY_CONFIG_DIR: join(home, 'config'),
            LATCHKEY_DATA_DIR: join(home, 'data'),
            LATCHKEY_CACHE_DIR: join(locked, 'cache'),
            NANOGPT_API_KEY: token,
          },
          as,
        );
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
        out(run.stdout);
        expectNoCrash(run.stderr);
      }
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});
