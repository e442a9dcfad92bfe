/**
 * Node's compile cache (bin/run.cjs): V8's compiled code, kept in `compile/` of latchkey's cache directory
 * only when that directory is the user's and no one else can write to it, since compiled code runs as the
 * user. Checked on the built binary with `auth token` (env credential: nothing else needed) and what it
 * leaves on disk.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_TIMEOUT_MS } from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
const token = 'sk-nano-compilecache0123456789ab';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-compile-cache-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `latchkey auth token` with only the given variables (and PATH): it must print the env token. */
function tokenWith(env: NodeJS.ProcessEnv): void {
  const run = spawnSync(process.execPath, [bin, 'auth', 'token', '--provider', 'nanogpt'], {
    env: {
      PATH: process.env.PATH,
      LATCHKEY_CONFIG_DIR: join(dir, 'config'),
      LATCHKEY_DATA_DIR: join(dir, 'data'),
      NANOGPT_API_KEY: token,
      ...env,
    },
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toBe(`${token}\n`);
  expect(run.stderr).toBe('');
}

/** The files Node wrote under `<cache>/compile` (none when it does not exist). */
function compiled(cache: string): string[] {
  const root = join(cache, 'compile');
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('the compile cache', () => {
  it('is written to compile/ of LATCHKEY_CACHE_DIR, which is created 0700 when missing', () => {
    const cache = join(dir, 'fresh', 'cache');
    tokenWith({ LATCHKEY_CACHE_DIR: cache });
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(compiled(cache).length).toBeGreaterThan(0);
    for (const file of compiled(cache)) expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('goes under $XDG_CACHE_HOME/latchkey, else $HOME/.cache/latchkey', () => {
    const xdg = join(dir, 'xdg');
    tokenWith({ XDG_CACHE_HOME: xdg, HOME: join(dir, 'home-unused') });
    expect(compiled(join(xdg, 'latchkey')).length).toBeGreaterThan(0);
    const home = join(dir, 'home');
    tokenWith({ HOME: home });
    expect(compiled(join(home, '.cache', 'latchkey')).length).toBeGreaterThan(0);
  });

  it('is not used in a cache directory others may write to (group or world writable)', () => {
    for (const mode of [0o777, 0o770, 0o1777]) {
      const cache = join(dir, `open-${mode.toString(8)}`);
      mkdirSync(cache);
      chmodSync(cache, mode);
      tokenWith({ LATCHKEY_CACHE_DIR: cache });
      expect(compiled(cache), `mode ${mode.toString(8)}`).toEqual([]);
    }
  });

  it.runIf(process.getuid?.() === 0)('is not used in a cache directory that belongs to another user', () => {
    const cache = join(dir, 'not-mine');
    mkdirSync(cache, { mode: 0o700 });
    chownSync(cache, 65534, 65534);
    tokenWith({ LATCHKEY_CACHE_DIR: cache });
    expect(compiled(cache)).toEqual([]);
  });

  it('compile/ and every directory below it are 0700 and files 0600 under umask 000', () => {
    const cache = join(dir, 'umask-000');
    const run = spawnSync(
      'sh',
      ['-c', 'umask 000; exec "$0" "$@"', process.execPath, bin, 'auth', 'token', '--provider', 'nanogpt'],
      {
        env: {
          PATH: process.env.PATH,
          LATCHKEY_CONFIG_DIR: join(dir, 'config'),
          LATCHKEY_DATA_DIR: join(dir, 'data'),
          LATCHKEY_CACHE_DIR: cache,
          NANOGPT_API_KEY: token,
        },
        encoding: 'utf8',
        timeout: RUN_TIMEOUT_MS,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(compiled(cache).length).toBeGreaterThan(0);
    const dirs = readdirSync(join(cache, 'compile'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(entry.parentPath, entry.name));
    expect(dirs.length).toBeGreaterThan(0);
    for (const d of [cache, join(cache, 'compile'), ...dirs]) expect(statSync(d).mode & 0o777, d).toBe(0o700);
    for (const file of compiled(cache)) expect(statSync(file).mode & 0o077, file).toBe(0);
  });

  it('a compile/ made loose by an older latchkey (0777) is made 0700 again before use', () => {
    const cache = join(dir, 'loose-compile');
    mkdirSync(join(cache, 'compile', 'v0-old'), { recursive: true, mode: 0o700 });
    chmodSync(cache, 0o700);
    chmodSync(join(cache, 'compile'), 0o777);
    chmodSync(join(cache, 'compile', 'v0-old'), 0o777);
    tokenWith({ LATCHKEY_CACHE_DIR: cache });
    expect(statSync(join(cache, 'compile')).mode & 0o777).toBe(0o700);
    expect(statSync(join(cache, 'compile', 'v0-old')).mode & 0o777).toBe(0o700);
    expect(compiled(cache).length).toBeGreaterThan(0);
  });

  it('a looping cache path (symlink loop) only means no cache, with no stack trace', () => {
    const loop = join(dir, 'loop');
    symlinkSync(loop, loop);
    tokenWith({ LATCHKEY_CACHE_DIR: loop });
  });

  it('is off with NODE_DISABLE_COMPILE_CACHE=1', () => {
    const cache = join(dir, 'disabled');
    tokenWith({ LATCHKEY_CACHE_DIR: cache, NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(compiled(cache)).toEqual([]);
  });

  it('a cache directory that cannot be made (a file is in the way) only means no cache', () => {
    const blocker = join(dir, 'blocker');
    spawnSync('touch', [blocker]);
    tokenWith({ LATCHKEY_CACHE_DIR: join(blocker, 'cache') });
  });
});
