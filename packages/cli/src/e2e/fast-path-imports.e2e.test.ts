/**
 * `auth token` runs inside other people's scripts: its fast path is ONE bundled file (dist/bundle/
 * fast-token.cjs, built by scripts/bundle.mjs) plus node: built-ins, never oclif, plugin code, the whole
 * plugin kit, the HTTP client, OAuth or the prompt library, neither loaded nor bundled in. Checked on the
 * built binary with Node's module hooks recording every module it resolves, and the bundle's source map
 * listing what went into it (harness expectFastPath). A keychain account still reads the keychain: the
 * native keyring package is then the one other module loaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNanoGptEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectFastPath, moduleRecorder } from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
const secretService = process.env.LATCHKEY_SECRET_SERVICE === '1';
const fileKey = `sk-nano-${randomUUID()}`;
const keychainKey = `sk-nano-${randomUUID()}`;
const passphraseKey = `sk-nano-${randomUUID()}`;
const passphrase = {
  LATCHKEY_FILE_PASSPHRASE: 'a passphrase for the fast path',
  LATCHKEY_FILE_SCRYPT_N: '32768',
};
let dir: string;
let env: NodeJS.ProcessEnv;

/** Runs latchkey without blocking this process (the emulator answers from it). */
function latchkeyAsync(args: string[], input: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`latchkey ${args.join(' ')} did not end in ${RUN_TIMEOUT_MS / 1000} s: ${output}`));
    }, RUN_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(output);
      else reject(new Error(`latchkey ${args.join(' ')} exited ${code}: ${output}`));
    });
    child.stdin.end(input);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-fast-path-'));
  env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(LATCHKEY_|NANOGPT_)/.test(name)) delete env[name];
  delete env.CI;
  Object.assign(env, {
    LATCHKEY_CONFIG_DIR: join(dir, 'config'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
  });
  const emulator = await startNanoGptEmulator({
    keys: [fileKey, keychainKey, passphraseKey],
    rateLimits: false,
  });
  try {
    const login = ['auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url];
    await latchkeyAsync([...login, '--storage', 'file'], `${fileKey}\n`);
    // A passphrase file beside it: reading the file account must not load its code.
    await latchkeyAsync(
      [...login, '--storage', 'passphrase', '--name', 'pp'],
      `${passphraseKey}\n`,
      passphrase,
    );
    if (secretService) {
      await latchkeyAsync([...login, '--storage', 'keychain', '--name', 'kc'], `${keychainKey}\n`, {
        LATCHKEY_SECRET_SERVICE: '1',
      });
    }
  } finally {
    await emulator.close();
  }
}, 3 * RUN_TIMEOUT_MS);

afterAll(async () => {
  if (secretService) {
    spawnSync(process.execPath, [bin, 'auth', 'logout', '--provider', 'nanogpt', '--account', 'kc'], {
      env,
      timeout: RUN_TIMEOUT_MS,
    });
  }
  await rm(dir, { recursive: true, force: true });
});

async function tokenRun(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  const recorder = await moduleRecorder(dir);
  const run = spawnSync(process.execPath, [...recorder.importArgs, bin, 'auth', 'token', ...args], {
    env: { ...env, ...extraEnv },
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  return { run, modules: await recorder.modules() };
}

describe('auth token fast path: one bundled file', () => {
  it('prints the env token having loaded bin/run.cjs, dist/bundle/fast-token.cjs and node: built-ins only', async () => {
    const token = 'sk-nano-fastpath0123456789abcdef';
    const { run, modules } = await tokenRun(['--provider', 'nanogpt'], { NANOGPT_API_KEY: token });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${token}\n`);
    expectFastPath(modules, 'fast-token.cjs');
    // The keychain library is not loaded for a credential that is not in the keychain, nor node:crypto
    // (@latchkey/storage imports it lazily, in its own source: nothing in the bundle is rewritten).
    expect(modules.filter((url) => url.includes('keyring'))).toEqual([]);
    expect(modules).not.toContain('node:crypto');
    // Storage reads with node:fs (its own source): node:fs/promises (about 1 MiB) is not loaded.
    expect(modules).not.toContain('node:fs/promises');
  });

  it('prints the file-stored token the same way, decrypted by node:crypto (OpenSSL), no other module added', async () => {
    const { run, modules } = await tokenRun(['--provider', 'nanogpt']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${fileKey}\n`);
    expectFastPath(modules, 'fast-token.cjs');
    // No hand-written cryptography (CONTRIBUTING.md): the entry is opened by OpenSSL.
    expect(modules).toContain('node:crypto');
    expect(modules).not.toContain('node:fs/promises');
  });

  it('answers on the first run with an empty cache dir (bundled facts compiled in, no plugin installed)', async () => {
    const cache = join(dir, 'empty-cache');
    const { run, modules } = await tokenRun(['--provider', 'nanogpt'], { LATCHKEY_CACHE_DIR: cache });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${fileKey}\n`);
    expectFastPath(modules, 'fast-token.cjs');
    // Nothing but Node's compile cache was written.
    expect(readdirSync(cache)).toEqual(['compile']);
    // Without --provider too: every provider is known.
    const bare = await tokenRun([], { LATCHKEY_CACHE_DIR: join(dir, 'empty-cache-2') });
    expect(bare.run.status, bare.run.stderr).toBe(0);
    expect(bare.run.stdout).toBe(`${fileKey}\n`);
    expectFastPath(bare.modules, 'fast-token.cjs');
  });

  it('answers with 20 linked plugins and an empty cache dir, their providers read from their package.json', async () => {
    const data = join(dir, 'data-20');
    const plugins = [];
    for (let i = 0; i < 20; i++) {
      const root = join(dir, `plugin-${i}`);
      mkdirSync(root, { recursive: true });
      const id = `linked${i}`;
      writeFileSync(
        join(root, 'package.json'),
        JSON.stringify({
          name: `latchkey-plugin-${id}`,
          oclif: {},
          latchkey: {
            provider: {
              id,
              title: id,
              defaultBaseUrl: `https://${id}.example`,
              envVars: [`${id.toUpperCase()}_KEY`],
              methods: ['token'],
              execEnv: { [`${id.toUpperCase()}_KEY`]: 'token' },
            },
          },
        }),
      );
      plugins.push({ type: 'link', name: `latchkey-plugin-${id}`, root });
    }
    mkdirSync(data, { recursive: true });
    writeFileSync(
      join(data, 'package.json'),
      JSON.stringify({ private: true, oclif: { schema: 1, plugins } }),
    );
    const extra = { LATCHKEY_DATA_DIR: data, LATCHKEY_CACHE_DIR: join(dir, 'cache-20') };
    // A bare `auth token`: every provider is known (the stored nanogpt account is the only credential).
    const bare = await tokenRun([], extra);
    expect(bare.run.status, bare.run.stderr).toBe(0);
    expect(bare.run.stdout).toBe(`${fileKey}\n`);
    expectFastPath(bare.modules, 'fast-token.cjs');
    // A linked plugin's provider, its credential from its own variable.
    const linked = await tokenRun(['linked7'], { ...extra, LINKED7_KEY: 'linked-key-0123456789' });
    expect(linked.run.status, linked.run.stderr).toBe(0);
    expect(linked.run.stdout).toBe('linked-key-0123456789\n');
    expectFastPath(linked.modules, 'fast-token.cjs');
    expect(readdirSync(join(dir, 'cache-20'))).toEqual(['compile']);
  });

  it('reads a passphrase account: still one bundle file, the key derived by node:crypto', async () => {
    const { run, modules } = await tokenRun(['--provider', 'nanogpt', '--account', 'pp'], passphrase);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${passphraseKey}\n`);
    expectFastPath(modules, 'fast-token.cjs');
    expect(modules).toContain('node:crypto');
  });

  it.runIf(secretService)(
    'reads a keychain account from the keychain: the native keyring package is the only module added',
    async () => {
      const { run, modules } = await tokenRun(['--provider', 'nanogpt', '--account', 'kc'], {
        LATCHKEY_SECRET_SERVICE: '1',
      });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${keychainKey}\n`);
      expect(modules.some((url) => /@napi-rs[/+]keyring/.test(url))).toBe(true);
      expectFastPath(modules, 'fast-token.cjs', { keychain: true });
    },
  );
});
