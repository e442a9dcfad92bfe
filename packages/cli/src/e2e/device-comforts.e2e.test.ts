/**
 * Device-login comforts in a REAL terminal: the built binary runs inside tmux against the NanoGPT
 * emulator. The QR code on the screen scans back to the sign-in URL, Enter opens the browser (a fake
 * BROWSER script records what it was given), --clipboard writes an OSC 52 sequence (read from the pane's
 * raw output with pipe-pane), Ctrl-C while waiting for Enter still exits 130, and none of it happens in a
 * pipe or with --json. The device code never reaches the terminal.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultCliBin } from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator } from '@latchkey/testkit';
import { blockQrLines, decodeBlockQr } from '../testing/qr-decode.js';
import { E2eFile, RUN_TIMEOUT_MS, expectExit, readIndex, hasTmux, tmuxPerTest } from './harness.js';

const inCi = Boolean(process.env.CI && process.env.CI !== 'false');
const { tmux, next: nextTmuxServer } = tmuxPerTest('comforts');

let dir: string;
let emulator: NanoGptEmulator | undefined;
const file = new E2eFile();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'latchkey-comforts-'));
});
afterEach(async () => {
  await nextTmuxServer();
  await emulator?.close();
  emulator = undefined;
  await file.cleanup();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Terminal {
  configDir: string;
  browserLog: string;
  screen: () => string;
  /** Everything the program wrote to the terminal, escape sequences included. */
  raw: () => Promise<string>;
}

/**
 * Runs `latchkey ARGS` in a fresh 80x24 terminal. The script first waits for one line on stdin, so the raw
 * output is being recorded (pipe-pane) before latchkey writes its first byte; it ends with the exit code
 * on screen.
 */
async function startInTerminal(name: string, args: string[]): Promise<Terminal> {
  const home = join(dir, name);
  await mkdir(home, { recursive: true });
  const configDir = join(home, 'config');
  const browserLog = join(home, 'browser.log');
  const browser = join(home, 'browser.sh');
  await writeFile(browser, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${browserLog}'\n`);
  await chmod(browser, 0o755);
  const env = {
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    LATCHKEY_CONFIG_DIR: configDir,
    LATCHKEY_STORAGE: 'file',
    BROWSER: browser,
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    TERM: 'xterm-256color',
  };
  const exports = Object.entries(env)
    .map(([k, v]) => `export ${k}='${v}'`)
    .join('\n');
  const script = join(home, 'run.sh');
  await writeFile(
    script,
    `#!/bin/sh\nunset CI DISPLAY WAYLAND_DISPLAY NO_COLOR FORCE_COLOR\n${exports}\nread _ready\n'${process.execPath}' '${defaultCliBin()}' ${args.join(' ')}\necho "EXIT=$?"\nsleep 30\n`,
  );
  await chmod(script, 0o755);
  const rawFile = join(home, 'raw.out');
  tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '24', script);
  tmux('pipe-pane', '-o', '-t', name, `cat >> '${rawFile}'`);
  tmux('send-keys', '-t', name, 'Enter');
  return {
    configDir,
    browserLog,
    screen: () => tmux('capture-pane', '-p', '-t', name),
    raw: async () => (existsSync(rawFile) ? readFile(rawFile, 'utf8') : ''),
  };
}

/** Waits (bounded) until `read()` shows `text`. */
async function waitFor(
  read: () => string | Promise<string>,
  text: string | RegExp,
  timeoutMs = RUN_TIMEOUT_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await read();
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)}; saw:\n${shown}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const osc52Of = (text: string) => `\x1b]52;c;${Buffer.from(text).toString('base64')}\x07`;

describe.runIf(hasTmux)('device-login comforts in a real terminal (tmux, 80x24)', () => {
  it('QR code that scans to the URL, Enter opens the browser, --clipboard sends OSC 52; the device code never shows', async () => {
    emulator = await startNanoGptEmulator({ interval: 1 });
    const host = new URL(emulator.url).host;
    const t = await startInTerminal('comforts', [
      'auth',
      'login',
      '--provider',
      'nanogpt',
      '--device', // a browser can be opened here: the device flow is asked for
      '--base-url',
      emulator.url,
      '--clipboard',
    ]);
    const screen = await waitFor(t.screen, `Press Enter to open ${host} in your browser...`);
    await waitFor(t.screen, /Waiting for approval\.\.\. \d+:\d\d left/);
    const userCode = emulator.userCodes()[0]!;
    const url = `${emulator.url}/cli-login/verify?code=${encodeURIComponent(userCode)}`;

    // The QR code fits the 80x24 screen with the lines around it, and reads back as the URL.
    const qr = blockQrLines(screen);
    expect(qr.length, screen).toBeGreaterThan(10);
    expect(decodeBlockQr(qr)).toBe(url);

    // Polling runs while latchkey waits for Enter; nothing was opened yet.
    await waitFor(() => String(emulator!.requests.filter((r) => r.route === 'poll').length), /^[1-9]/);
    expect(existsSync(t.browserLog)).toBe(false);
    tmux('send-keys', '-t', 'comforts', 'Enter');
    expect(await waitFor(() => readFile(t.browserLog, 'utf8').catch(() => ''), '\n')).toBe(`${url}\n`);
    await waitFor(t.screen, 'Opened your browser.');

    emulator.approve(userCode);
    const final = await waitFor(t.screen, /EXIT=\d+/);
    expect(final, final).toContain('EXIT=0');
    expect(final).toContain('Logged in to NanoGPT');
    expect((await readIndex(t.configDir))?.accounts).toMatchObject([
      { provider: 'nanogpt', method: 'device' },
    ]);

    const raw = await t.raw();
    expect(raw).toContain(osc52Of(userCode));
    // Colour in a terminal: the ✓ of the summary is green.
    expect(raw).toContain('\x1b[32m✓\x1b[39m Logged in to NanoGPT');
    for (const secret of [...emulator.deviceCodes(), ...emulator.issuedKeys()])
      expect(raw).not.toContain(secret);
  });

  it('Ctrl-C while waiting for Enter exits 130; --no-qr shows no QR code', async () => {
    emulator = await startNanoGptEmulator({ interval: 1 });
    const t = await startInTerminal('cancel', [
      'auth',
      'login',
      '--provider',
      'nanogpt',
      '--device', // a browser can be opened here: the device flow is asked for
      '--base-url',
      emulator.url,
      '--no-qr',
    ]);
    const screen = await waitFor(t.screen, 'Press Enter to open');
    expect(screen).not.toMatch(/[█▀▄]/u);
    tmux('send-keys', '-t', 'cancel', 'C-c');
    const final = await waitFor(t.screen, /EXIT=\d+/);
    expect(final).toContain('EXIT=130');
    expect(existsSync(t.browserLog)).toBe(false);
    expect(await readIndex(t.configDir)).toBeUndefined();
  });

  it('--json in a terminal: no QR code, no "Press Enter", no OSC 52', async () => {
    emulator = await startNanoGptEmulator({ interval: 1, autoApproveAfterPolls: 1 });
    const t = await startInTerminal('json', [
      'auth',
      'login',
      '--provider',
      'nanogpt',
      '--device', // a browser can be opened here: the device flow is asked for
      '--base-url',
      emulator.url,
      '--clipboard',
      '--no-browser',
      '--json',
    ]);
    const final = await waitFor(t.screen, /EXIT=\d+/);
    expect(final, final).toContain('EXIT=0');
    const raw = await t.raw();
    expect(raw).not.toMatch(/[█▀▄]|Press Enter|\]52;/u);
    // No colour in a --json run, even on a terminal.
    expect(raw).toContain('✓ Logged in to NanoGPT');
    expect(raw).not.toContain('\x1b[32m');
  });
});

describe('device-login comforts stay out of pipes', () => {
  it('a piped login with --clipboard and a BROWSER: plain lines only, nothing opened', async () => {
    const piped = await file.emulator({ interval: 1, autoApproveAfterPolls: 1 });
    const session = await file.session();
    const browserLog = join(session.homeDir, 'browser.log');
    const browser = join(session.homeDir, 'browser.sh');
    await writeFile(browser, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${browserLog}'\n`);
    await chmod(browser, 0o755);
    const run = await session.run(
      ['auth', 'login', '--provider', 'nanogpt', '--base-url', piped.url, '--clipboard'],
      { timeoutMs: RUN_TIMEOUT_MS, env: { BROWSER: browser } },
    );
    expectExit(run, 0);
    expect(run.stderr).not.toMatch(/[█▀▄]|Press Enter|clipboard|\]52;/u);
    expect(run.stderr).toContain('Waiting for approval...\n');
    expect(existsSync(browserLog)).toBe(false);
  });
});

// Locally without tmux the terminal suite shows as skipped; CI installs tmux, so there it must run.
if (!hasTmux && inCi) {
  describe('terminal tests in CI', () => {
    it('has tmux (installed by .ci/run)', () => {
      expect(hasTmux, 'CI is set but tmux is not installed').toBe(true);
    });
  });
}
