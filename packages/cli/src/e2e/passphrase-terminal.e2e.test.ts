/**
 * The passphrase prompt in a REAL terminal: the built binary runs inside tmux (a pseudo-terminal), the test
 * types into it with send-keys and reads the screen with capture-pane. Without LATCHKEY_FILE_PASSPHRASE,
 * `auth token` asks for the passphrase (the fast path hands a terminal user to the full CLI, which asks),
 * echoes nothing of it, and prints the token; `auth passphrase` asks for the current one and the new one
 * twice. Skips without tmux, and fails in CI without it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultCliBin } from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator } from '@latchkey/testkit';
import { newKey, hasTmux, tmuxPerTest } from './harness.js';

const inCi = Boolean(process.env.CI && process.env.CI !== 'false');
const { tmux, next: nextTmuxServer } = tmuxPerTest('pp');
const PASSPHRASE = 'typed passphrase 9f3a';
const NEW = 'another typed one 77c1';

let dir: string;
let emulator: NanoGptEmulator | undefined;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-pp-tty-'));
});
afterEach(async () => {
  await nextTmuxServer();
  await emulator?.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function baseEnv(name: string): Record<string, string> {
  return {
    HOME: join(dir, name),
    XDG_CACHE_HOME: join(dir, name, 'cache'),
    LATCHKEY_CONFIG_DIR: join(dir, name, 'config'),
    LATCHKEY_STORAGE: 'passphrase',
    LATCHKEY_FILE_SCRYPT_N: '32768',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TZ: 'UTC',
  };
}

/** A key stored in the passphrase file of `name`, with the passphrase from the variable (no terminal). */
async function stored(name: string): Promise<string> {
  const key = newKey();
  emulator = await startNanoGptEmulator({ keys: [key], rateLimits: false });
  // Not spawnSync: the emulator answers from this process.
  const child = spawn(
    process.execPath,
    [defaultCliBin(), 'auth', 'login', '--provider', 'nanogpt', '--with-token', '--base-url', emulator.url],
    { env: { ...baseEnv(name), CI: '1', LATCHKEY_FILE_PASSPHRASE: PASSPHRASE }, timeout: 45_000 },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(`${key}\n`);
  const [code] = (await once(child, 'close')) as [number | null];
  expect(code, stderr).toBe(0);
  return key;
}

/** Runs latchkey (with the directories of `name`) in a fresh terminal `session`; it ends with the exit code on screen. */
async function inTerminal(name: string, session: string, args: string[]): Promise<() => string> {
  const script = join(dir, `${session}.sh`);
  const exports = Object.entries({ ...baseEnv(name), TERM: 'xterm-256color' })
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  await writeFile(
    script,
    `#!/bin/sh\nunset CI LATCHKEY_FILE_PASSPHRASE\n${exports}\n'${process.execPath}' '${defaultCliBin()}' ${args.join(' ')}\necho "EXIT=$?"\nsleep 30\n`,
  );
  await chmod(script, 0o755);
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', script);
  return () => tmux('capture-pane', '-p', '-t', session);
}

/** Waits (a bounded number of polls) until the screen shows `text`. */
async function waitFor(screen: () => string, text: string | RegExp): Promise<string> {
  for (let i = 0; ; i++) {
    const shown = screen();
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (i >= 300) throw new Error(`timed out waiting for ${String(text)}; the screen:\n${shown}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function type(session: string, text: string): void {
  tmux('send-keys', '-t', session, '-l', text);
  tmux('send-keys', '-t', session, 'Enter');
}

describe.runIf(hasTmux)('the passphrase prompt in a real terminal (tmux)', () => {
  it('auth token asks for the passphrase, echoes none of it, and prints the token', async () => {
    const key = await stored('token');
    const screen = await inTerminal('token', 'token', ['auth', 'token', '--provider', 'nanogpt']);
    await waitFor(screen, "Passphrase of latchkey's credentials file:");
    type('token', PASSPHRASE);
    const shown = await waitFor(screen, /EXIT=\d+/);
    expect(shown).toContain('EXIT=0');
    expect(shown).toContain(key);
    expect(shown).not.toContain(PASSPHRASE);
    expect(shown).not.toContain(PASSPHRASE.slice(0, 8));
  });

  it('a mistyped passphrase is exit 4; auth passphrase asks for the current one and the new one twice', async () => {
    const key = await stored('change');
    const wrong = await inTerminal('change', 'wrong', ['auth', 'token', '--provider', 'nanogpt']);
    await waitFor(wrong, "Passphrase of latchkey's credentials file:");
    type('wrong', 'not it at all');
    const refused = await waitFor(wrong, /EXIT=\d+/);
    expect(refused).toContain('EXIT=4');
    expect(refused).toContain('That passphrase does not open');
    expect(refused).not.toContain('not it at all');

    const screen = await inTerminal('change', 'change3', ['auth', 'passphrase']);
    await waitFor(screen, "Passphrase of latchkey's credentials file:");
    type('change3', PASSPHRASE);
    await waitFor(screen, "New passphrase for latchkey's credentials file:");
    type('change3', NEW);
    await waitFor(screen, 'The same passphrase again:');
    type('change3', NEW);
    const shown = await waitFor(screen, /EXIT=\d+/);
    expect(shown).toContain('EXIT=0');
    expect(shown).toContain('✓ Changed the passphrase of');
    expect(shown).not.toContain(NEW);
    expect(shown).not.toContain(PASSPHRASE);
    const read = spawnSync(process.execPath, [defaultCliBin(), 'auth', 'token', '--provider', 'nanogpt'], {
      env: { ...baseEnv('change'), CI: '1', LATCHKEY_FILE_PASSPHRASE: NEW },
      encoding: 'utf8',
      timeout: 45_000,
    });
    expect(read.status, read.stderr).toBe(0);
    expect(read.stdout).toBe(`${key}\n`);
  });
});

it.runIf(!hasTmux && inCi)('tmux is installed in CI (the terminal tests must not skip there)', () => {
  expect(hasTmux).toBe(true);
});
