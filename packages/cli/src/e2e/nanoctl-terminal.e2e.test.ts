/**
 * The masked prompt in a REAL terminal: the built binary runs inside tmux (a pseudo-terminal), the test
 * types into it with send-keys and reads the screen with capture-pane. Asserts that no character of the
 * token is echoed, that a wrong token can be corrected in the same session, that the welcome line shows the
 * user and the expiry, and that the token is stored encrypted.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultCliBin } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, type NanoctlEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, expectSecretNotOnDisk, readIndex, hasTmux, tmuxPerTest } from './harness.js';

const inCi = Boolean(process.env.CI && process.env.CI !== 'false');
const { tmux, next: nextTmuxServer } = tmuxPerTest('tty');

let dir: string;
let emulator: NanoctlEmulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-tty-'));
});
afterEach(async () => {
  await nextTmuxServer();
  await emulator?.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Starts `latchkey auth login --provider nanoctl` in a fresh terminal; the script ends with the exit code on screen. */
async function startInTerminal(
  name: string,
  baseUrl: string,
  args: string[] = ['auth', 'login', '--provider', 'nanoctl'],
  extraEnv: Record<string, string> = {},
): Promise<{ configDir: string; screen: () => string }> {
  const configDir = join(dir, name, 'config');
  const script = join(dir, `${name}.sh`);
  const env = {
    HOME: join(dir, name),
    XDG_CACHE_HOME: join(dir, name, 'cache'),
    LATCHKEY_CONFIG_DIR: configDir,
    LATCHKEY_STORAGE: 'file',
    LATCHKEY_NANOCTL_BASE_URL: baseUrl,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
    TZ: 'UTC',
    ...extraEnv,
  };
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  await writeFile(
    script,
    `#!/bin/sh\nunset CI\n${exports}\n'${process.execPath}' '${defaultCliBin()}' ${args.join(' ')}\necho "EXIT=$?"\nsleep 30\n`,
  );
  await chmod(script, 0o755);
  tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '40', script);
  return { configDir, screen: () => tmux('capture-pane', '-p', '-t', name) };
}

/** Waits (bounded) until the screen shows `text`. */
async function waitFor(
  screen: () => string,
  text: string | RegExp,
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = screen();
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${String(text)}; the screen:\n${shown}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function type(session: string, text: string): void {
  tmux('send-keys', '-t', session, '-l', text);
  tmux('send-keys', '-t', session, 'Enter');
}

describe.runIf(hasTmux)('the masked prompt in a real terminal (tmux)', () => {
  it('echoes nothing, lets a wrong token be corrected, welcomes the user, stores the token encrypted', async () => {
    emulator = await startNanoctlEmulator();
    const { token } = emulator.addToken({ username: 'grace', expiresAt: '2031-03-15T00:00:00.000Z' });
    const wrong = 'nsv_WRONGwrongWRONGwrong0000';
    const { configDir, screen } = await startInTerminal('prompt', emulator.url);

    await waitFor(
      screen,
      'Paste your Nanoservices token (create one at https://atomic.deskree.com/auth/access/token)',
    );
    type('prompt', wrong);
    await waitFor(screen, 'Nanoservices rejected the token');
    await waitFor(screen, 'Try again, or press Ctrl-C to stop.');
    type('prompt', token);
    const final = await waitFor(screen, /EXIT=\d+/);

    expect(final, final).toContain('EXIT=0');
    expect(final).toContain('Logged in to Nanoservices as grace (token expires 2031-03-15 00:00:00 +00:00)');
    // Not one character sequence of either token reached the screen.
    for (const secret of [token, wrong]) {
      for (let i = 0; i + 6 <= secret.length; i += 3) expect(final).not.toContain(secret.slice(i, i + 6));
    }
    expect(emulator.requests.map((r) => r.status)).toEqual([401, 200]);
    expect((await readIndex(configDir))?.accounts).toMatchObject([
      { provider: 'nanoctl', account: 'grace', method: 'prompt', backend: 'file' },
    ]);
    await expectSecretNotOnDisk(configDir, token);
  });

  it('without --provider, a terminal asks which provider, then signs in to the one picked', async () => {
    emulator = await startNanoctlEmulator();
    const { token } = emulator.addToken({ username: 'linus' });
    const { configDir, screen } = await startInTerminal('pick', emulator.url, ['auth', 'login']);
    const question = await waitFor(screen, 'Which provider to sign in to?');
    for (const title of [
      'Kaneo (kaneo)',
      'Nanoservices (nanoctl)',
      'NanoGPT (nanogpt)',
      'NanoTerm (nanoterm)',
    ]) {
      expect(question).toContain(title);
    }
    // The list starts on Kaneo; Nanoservices is the next entry.
    tmux('send-keys', '-t', 'pick', 'Down');
    await waitFor(screen, '❯ Nanoservices (nanoctl)');
    tmux('send-keys', '-t', 'pick', 'Enter');
    await waitFor(screen, 'Paste your Nanoservices token');
    type('pick', token);
    const final = await waitFor(screen, /EXIT=\d+/);
    expect(final, final).toContain('EXIT=0');
    expect((await readIndex(configDir))?.accounts).toMatchObject([{ provider: 'nanoctl', account: 'linus' }]);
  });

  it('a valid NANOSERVICES_TOKEN: one line says so on the terminal, nothing stored', async () => {
    emulator = await startNanoctlEmulator();
    const { token } = emulator.addToken({ username: 'ada', expiresAt: '2027-03-01T00:00:00.000Z' });
    const { configDir, screen } = await startInTerminal('env', emulator.url, undefined, {
      NANOSERVICES_TOKEN: token,
    });
    const final = await waitFor(screen, /EXIT=\d+/);
    expect(final, final).toContain('EXIT=0');
    expect(final).toContain(
      'NANOSERVICES_TOKEN is valid for ada (expires 2027-03-01 00:00:00 +00:00); nothing stored\nEXIT=0',
    );
    for (let i = 0; i + 6 <= token.length; i += 3) expect(final).not.toContain(token.slice(i, i + 6));
    expect(await readIndex(configDir)).toBeUndefined();
  });

  it('Ctrl-C at the prompt ends with exit 130 and stores nothing', async () => {
    emulator = await startNanoctlEmulator();
    const { configDir, screen } = await startInTerminal('cancel', emulator.url);
    await waitFor(screen, 'Paste your Nanoservices token');
    tmux('send-keys', '-t', 'cancel', 'C-c');
    const final = await waitFor(screen, /EXIT=\d+/);
    expect(final).toContain('EXIT=130');
    expect(await readIndex(configDir)).toBeUndefined();
    expect(emulator.requests).toEqual([]);
  });
});

// Locally without tmux the suite above shows as skipped; CI installs tmux, so there it must run.
if (!hasTmux && inCi) {
  describe('terminal tests in CI', () => {
    it('has tmux (installed by .ci/run)', () => {
      expect(hasTmux, 'CI is set but tmux is not installed').toBe(true);
    });
  });
}
