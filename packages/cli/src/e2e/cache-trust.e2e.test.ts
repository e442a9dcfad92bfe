/**
 * Nothing read from a cache changes what runs, where a secret goes, or what is printed raw (issue 20):
 * through the built binary, a poisoned provider cache (an `LD_PRELOAD` execEnv and an attacker's base-URL
 * variable, a cache dir others may write to, a file of another user), and unreadable or looping cache
 * paths (the provider cache is latchkey's one start-up cache; --help and --version replay nothing). The bundled providers' facts are compiled in, so
 * their cache entries are never read; a third-party entry is used only from a cache that passes the owner,
 * mode and manifest checks. The cross-user cases create a throw-away user (`useradd`, removed afterwards)
 * and are skipped, saying so, when the tests do not run as root.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

/** The one providers-*.json the full CLI wrote (its name depends on the set-up). */
function providerCache(): string {
  const names = readdirSync(cache).filter((name) => /^providers-[0-9a-f]{8}\.json$/.test(name));
  expect(names).toHaveLength(1);
  return join(cache, names[0]!);
}

/**
 * The full CLI's `auth token` writes the provider cache: without one, the fast path hands a bare `auth
 * token` over (a user-installed plugin's provider might have a credential too).
 */
function warmProviderCache(): string {
  const run = latchkey(['auth', 'token'], { NANOGPT_API_KEY: token });
  expect(run.code, run.stderr).toBe(0);
  return providerCache();
}

/** A third-party provider as a hostile cache would list it. */
const acme = (execEnv: Record<string, string>, url = 'https://attacker.example') => ({
  plugin: 'latchkey-plugin-acme',
  manifest: {
    id: 'acme',
    title: 'Acme',
    defaultBaseUrl: url,
    envVars: ['ACME_KEY'],
    methods: ['token'],
    execEnv,
  },
});
/** The bundled nanogpt as the attacker rewrote it. */
const poisonedNanogpt = {
  plugin: '@latchkey/plugin-nanogpt',
  manifest: {
    id: 'nanogpt',
    title: 'NanoGPT',
    defaultBaseUrl: 'https://attacker.example',
    envVars: ['NANOGPT_API_KEY'],
    methods: ['token'],
    execEnv: { NANOGPT_API_KEY: 'token', LD_PRELOAD: 'base-url', OPENAI_BASE_URL: 'base-url' },
  },
};

function rewrite(file: string, providers: unknown[]): void {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { providers: unknown[] };
  doc.providers = providers;
  writeFileSync(file, JSON.stringify(doc)); // owner and mode 0600 kept
}

describe('a poisoned provider cache', () => {
  it('cannot give a bundled provider an LD_PRELOAD or an attacker base-URL variable: its facts are compiled in', () => {
    const file = warmProviderCache();
    rewrite(file, [poisonedNanogpt]);
    const run = latchkey(['exec', '--provider', 'nanogpt', '--', ...probe], {
      NANOGPT_API_KEY: token,
      LATCHKEY_DEBUG: '1',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      pre: null,
      url: null,
      acme: null,
      key: '<concealed by latchkey>',
    });
    // The entry fails the manifest validator: the whole file is ignored, and says so.
    expect(run.stderr).toMatch(/\[debug\] cache .*providers-.*ignored.*execEnv variable "LD_PRELOAD"/);
  });

  it('with an LD_PRELOAD execEnv for a third-party provider is ignored (not used) and rebuilt', () => {
    const file = warmProviderCache();
    rewrite(file, [acme({ ACME_KEY: 'token', LD_PRELOAD: 'base-url' })]);
    const run = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
      LATCHKEY_DEBUG: '1',
    });
    // No such provider without the cache: the command never ran.
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Unknown provider "acme"');
    expect(run.stderr).toMatch(/ignored \(rebuilt by the next full run\)/);
    // The full CLI wrote it afresh, without the poisoned entry.
    expect(JSON.parse(readFileSync(file, 'utf8')).providers).toEqual([]);
  });

  it('in a cache dir others may write to (0777) is not used, even when every entry is valid', () => {
    const file = warmProviderCache();
    rewrite(file, [acme({ ACME_KEY: 'token', ACME_URL: 'base-url' })]);
    chmodSync(cache, 0o777);
    const run = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
      LATCHKEY_DEBUG: '1',
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/\[debug\] cache dir .* not used: it has mode 0777/);
    // The same cache in a 0700 dir is used (the test above is not passing for another reason).
    chmodSync(cache, 0o700);
    const used = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
    });
    expect(used.code, used.stderr).toBe(0);
    expect(JSON.parse(used.stdout)).toMatchObject({ acme: 'https://attacker.example' });
  });

  // Skipped (and listed as such) unless the tests run as root: creating the other user needs useradd.
  it.runIf(root)('owned by another user (useradd; skipped when not root) is not used', () => {
    const file = warmProviderCache();
    rewrite(file, [acme({ ACME_KEY: 'token', ACME_URL: 'base-url' })]);
    chownSync(file, other!.uid, other!.gid);
    const run = latchkey(['exec', '--provider', 'acme', '--', ...probe], {
      ACME_KEY: 'acme-key-0123456789',
      LATCHKEY_DEBUG: '1',
    });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(`cache .*providers-.* not used: it belongs to uid ${other!.uid}, not 0`),
    );
    const token2 = latchkey(['auth', 'token', '--provider', 'nanogpt'], { NANOGPT_API_KEY: token });
    expect(token2.stdout).toBe(`${token}\n`);
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
