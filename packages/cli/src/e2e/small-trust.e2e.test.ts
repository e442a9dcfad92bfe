/**
 * Issue 20's small trust fixes, through the built binary, each on the fast paths (`auth token`, `exec`,
 * warm caches) and the full CLI: a bad LATCHKEY_STORAGE is exit 2 on every command; a credential variable
 * holding a `latchkey://` reference is refused everywhere; `--client-secret-env` refuses PATH-like, loader
 * and other providers' credential variables; a providers.json others may read is STORAGE_INSECURE; logout
 * removes every temp file, a live pid's too, so nothing that decrypts a removed secret stays.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNanoGptEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS } from './harness.js';

const bin = resolve(import.meta.dirname, '../../bin/run.cjs');
const node = process.execPath;
const key = `sk-nano-${randomUUID()}`;
let dir: string;
let configDir: string;
let env: NodeJS.ProcessEnv;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `printsKey`: a run of `auth token` that succeeds, the one place the key belongs on stdout. */
function latchkey(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; printsKey?: boolean } = {},
): Ran {
  const r = spawnSync(node, [bin, ...args], {
    env: { ...env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
  });
  expect(r.stderr, 'no run prints the key on stderr').not.toContain(key);
  if (!options.printsKey) expect(r.stdout, 'no run prints the key').not.toContain(key);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-small-trust-'));
  configDir = join(dir, 'config');
  env = { ...process.env };
  for (const name of Object.keys(env))
    if (/^(LATCHKEY_|NANOGPT_|NANOTERM_|KANEO_|NANOSERVICES_|OPENAI_)/.test(name)) delete env[name];
  delete env.CI;
  Object.assign(env, {
    LATCHKEY_CONFIG_DIR: configDir,
    LATCHKEY_CACHE_DIR: join(dir, 'cache'),
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    LATCHKEY_STORAGE: 'file',
  });
  const emulator = await startNanoGptEmulator({ keys: [key], rateLimits: false });
  try {
    // Asynchronously: the emulator answers from this process.
    const code = await new Promise<number | null>((done) => {
      const child = spawn(
        node,
        [bin, 'auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
        { env, stdio: ['pipe', 'ignore', 'ignore'] },
      );
      child.once('close', done);
      child.stdin.end(`${key}\n`);
    });
    expect(code).toBe(0);
  } finally {
    await emulator.close();
  }
  // Warm the caches, so that `auth token`, `exec` and `auth providers` take their fast paths below.
  expect(latchkey(['auth', 'token', 'nanogpt'], { printsKey: true }).code).toBe(0);
  expect(latchkey(['exec', '--provider', 'nanogpt', '--', 'true']).code).toBe(0);
  expect(latchkey(['auth', 'providers']).code).toBe(0);
}, 5 * RUN_TIMEOUT_MS);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LATCHKEY_STORAGE=bogus is exit 2 on every command', () => {
  const marker = () => join(dir, 'child-ran');
  it.each([
    ['auth token'],
    ['auth token nanogpt'],
    ['auth token --provider nanogpt --account nobody'],
    ['exec --provider nanogpt -- CHILD'],
    ['exec -- CHILD'],
    ['auth status'],
    ['auth providers'],
    ['auth switch --provider nanogpt'],
    ['auth logout --all'],
    ['inject'],
    ['auth login --provider nanogpt --with-token --storage file'],
  ])('`latchkey %s`', (command) => {
    const args = command
      .split(' ')
      .flatMap((a) =>
        a === 'CHILD'
          ? [node, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker())}, 'x')`]
          : [a],
      );
    const r = latchkey(args, { env: { LATCHKEY_STORAGE: 'bogus' }, input: 'x\n' });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      "Invalid LATCHKEY_STORAGE value 'bogus': expected one of auto, keychain, file, passphrase, pass.",
    );
    expect(existsSync(marker()), 'the child never started').toBe(false);
  });

  it('nothing was logged out or changed: the stored key is still there', () => {
    expect(
      latchkey(['auth', 'token', 'nanogpt'], { env: { LATCHKEY_STORAGE: 'auto' }, printsKey: true }).stdout,
    ).toBe(`${key}\n`);
  });

  it('`doctor` lists it as a problem (exit 1) instead of stopping', () => {
    const r = latchkey(['doctor'], { env: { LATCHKEY_STORAGE: 'bogus' } });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("Invalid LATCHKEY_STORAGE value 'bogus'");
  });
});

describe('a credential variable holding a latchkey:// reference is refused everywhere (exit 2)', () => {
  const marker = () => join(dir, 'ref-child-ran');
  const child = () => [node, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker())}, 'x')`];
  it.each([
    ['NANOGPT_API_KEY', ['auth', 'token']],
    ['NANOGPT_API_KEY', ['auth', 'token', 'nanogpt']],
    ['LATCHKEY_NANOGPT_TOKEN', ['auth', 'token', 'nanogpt']],
    ['NANOGPT_API_KEY', ['inject']],
    ['NANOGPT_API_KEY', ['exec', '--', 'CHILD']],
    ['NANOGPT_API_KEY', ['exec', '--provider', 'nanogpt', '--', 'CHILD']],
    ['LATCHKEY_NANOGPT_TOKEN', ['exec', '--env', 'OPENAI_API_KEY=latchkey://nanogpt', '--', 'CHILD']],
    ['NANOGPT_API_KEY', ['auth', 'status', 'nanogpt']],
  ])('%s=latchkey://nanogpt, `latchkey %j`', (variable, args) => {
    const r = latchkey(
      (args as string[]).flatMap((a) => (a === 'CHILD' ? child() : [a])),
      { env: { [variable as string]: 'latchkey://nanogpt' }, input: 'K={{ latchkey://nanogpt }}\n' },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `${variable} holds a latchkey:// reference; a credential variable must hold the credential itself.`,
    );
    expect(existsSync(marker()), 'the child never started').toBe(false);
  });

  it('a reference in a variable of another name is still resolved by exec', () => {
    const r = latchkey(['exec', '--', node, '-e', 'console.log(process.env.OPENAI_API_KEY.length)'], {
      env: { OPENAI_API_KEY: 'latchkey://nanogpt' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${key.length}\n`);
  });
});

describe('auth providers add --client-secret-env', () => {
  const add = (variable: string, name = 'corp') =>
    latchkey([
      'auth',
      'providers',
      'add',
      name,
      '--client-id',
      'latchkey-cli',
      '--device-authorization-url',
      'http://127.0.0.1:9/device',
      '--token-url',
      'http://127.0.0.1:9/token',
      '--client-secret-env',
      variable,
    ]);

  it.each([
    'PATH',
    'LD_PRELOAD',
    'NODE_OPTIONS',
    'DYLD_INSERT_LIBRARIES',
    'PYTHONPATH',
    'HOME',
    'NANOGPT_API_KEY',
    'LATCHKEY_NANOGPT_TOKEN',
    'KANEO_API_KEY',
    'lower',
  ])('refuses %s (exit 2, nothing stored)', (variable) => {
    const r = add(variable);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--client-secret-env may not name "${variable}"`);
    expect(existsSync(join(configDir, 'providers.json'))).toBe(false);
  });

  it('accepts a variable of its own', async () => {
    const r = add('CORP_CLIENT_SECRET');
    expect(r.code, r.stderr).toBe(0);
    expect(latchkey(['auth', 'providers', 'remove', 'corp']).code).toBe(0);
  });
});

describe('providers.json that others may read or change is STORAGE_INSECURE (exit 1)', () => {
  it.each([
    ['auth token corp'],
    ['auth token'],
    ['exec --provider corp -- true'],
    ['exec -- true'],
    ['auth login --provider corp'],
    ['auth providers'],
    ['auth status'],
  ])('0644: `latchkey %s`', async (command) => {
    const file = join(configDir, 'providers.json');
    const added = latchkey([
      'auth',
      'providers',
      'add',
      'corp',
      '--client-id',
      'latchkey-cli',
      '--device-authorization-url',
      'http://127.0.0.1:9/device',
      '--token-url',
      'http://127.0.0.1:9/token',
    ]);
    expect(added.code, added.stderr).toBe(0);
    // Warm: the fast paths' cache now knows corp.
    latchkey(['auth', 'token', 'corp'], { printsKey: true });
    latchkey(['exec', '--provider', 'nanogpt', '--', 'true']);
    await chmod(file, 0o644);
    try {
      const r = latchkey(command.split(' '));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`${file} has permissions 644; latchkey refuses to use`);
      expect(r.stderr).not.toContain('Unknown provider');
    } finally {
      await chmod(file, 0o600);
      expect(latchkey(['auth', 'providers', 'remove', 'corp']).code).toBe(0);
    }
  });
});

describe("logout removes every temp file, a live pid's too", () => {
  it('`auth logout --all` leaves nothing that decrypts the secret', async () => {
    // What a writer that is still alive (this test process) left: the encrypted document and the key.
    for (const file of ['credentials.enc', 'credentials.key']) {
      await copyFile(join(configDir, file), join(configDir, `.${file}.${process.pid}.a1b2c3d4e5f6.tmp`));
    }
    const r = latchkey(['auth', 'logout', '--provider', 'nanogpt', '--all']);
    expect(r.code, r.stderr).toBe(0);
    // No temp file, no encrypted file, no key: nothing left that decrypts (the index and providers.json
    // hold no secret).
    const left = await readdir(configDir);
    expect(left.filter((name) => name.endsWith('.tmp') || name.includes('credentials'))).toEqual([]);
    expect(left).toContain('accounts.json');
  });
});
