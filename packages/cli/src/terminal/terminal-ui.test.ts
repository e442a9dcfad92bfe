/**
 * What a person sees during a device login, through the runtime's injected stderr and browser launcher:
 * the URL and code, the browser (only where it may be opened, and never with a credential in its
 * environment), and the live countdown in a terminal.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeHost, type FakeHost, type FakeHostOptions } from '../testing/fake-host.js';
import { blockQrLines, decodeBlockQr } from '../testing/qr-decode.js';
import { osc52 } from './clipboard.js';
import { TerminalUi } from './terminal-ui.js';

let host: FakeHost | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await host?.dispose();
  host = undefined;
});

async function start(options: FakeHostOptions): Promise<FakeHost> {
  host = await fakeHost(options);
  return host;
}

const now = Date.parse('2026-01-01T00:00:00Z');
const verification = {
  userCode: 'ABCDEFGH',
  verificationUri: 'https://acme.example/device',
  verificationUriComplete: 'https://acme.example/device?user_code=ABCDEFGH',
  expiresAt: now + 10 * 60_000,
};

describe('TerminalUi.showVerification', () => {
  it('in a pipe: the URL, the code and the time left, once, plainly; no browser', async () => {
    const h = await start({ now, env: { DISPLAY: ':0' } });
    const ui = new TerminalUi(h.runtime, { browser: true, providerTitle: 'Acme', credentialEnvVars: [] });
    await ui.showVerification(verification);
    ui.close();
    expect(h.stderr()).toBe(
      [
        'To sign in to Acme, open this URL and approve the code ABCD-EFGH:',
        '  https://acme.example/device?user_code=ABCDEFGH',
        'The code expires in 10 minutes.',
        'Waiting for approval...',
        '',
      ].join('\n'),
    );
    expect(h.launched).toEqual([]);
  });

  it('without a complete URL, says to enter the code', async () => {
    const h = await start({ now });
    const ui = new TerminalUi(h.runtime, { browser: false, providerTitle: 'Acme', credentialEnvVars: [] });
    await ui.showVerification({ ...verification, verificationUriComplete: undefined });
    expect(h.stderr()).toContain(
      '  https://acme.example/device\n  (enter the code ABCD-EFGH on that page)\n',
    );
  });

  it('in a terminal with a display: opens the browser without any credential variable in its environment', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await start({
      now,
      interactive: true,
      env: {
        DISPLAY: ':0',
        PATH: '/usr/bin',
        ACME_API_KEY: 'acme-secret',
        LATCHKEY_BETA_TOKEN: 'beta-secret',
      },
    });
    const ui = new TerminalUi(h.runtime, {
      browser: true,
      providerTitle: 'Acme',
      credentialEnvVars: ['ACME_API_KEY'],
    });
    await ui.showVerification(verification);
    ui.close();
    expect(h.launched).toHaveLength(1);
    expect(h.launched[0]!.command).toBe('xdg-open');
    expect(h.launched[0]!.args).toEqual(['https://acme.example/device?user_code=ABCDEFGH']);
    expect(h.launched[0]!.env).toMatchObject({ DISPLAY: ':0', PATH: '/usr/bin' });
    expect(Object.keys(h.launched[0]!.env)).not.toContain('ACME_API_KEY');
    expect(Object.keys(h.launched[0]!.env).filter((k) => k.startsWith('LATCHKEY_'))).toEqual([]);
    expect(h.stderr()).toContain('Opened your browser.\n');
  });

  it('--no-browser, or a server URL that is not http(s): nothing is launched', async () => {
    const h = await start({ now, interactive: true, env: { DISPLAY: ':0' } });
    const quiet = new TerminalUi(h.runtime, { browser: false, providerTitle: 'Acme', credentialEnvVars: [] });
    await quiet.showVerification(verification);
    quiet.close();
    const hostile = new TerminalUi(h.runtime, {
      browser: true,
      providerTitle: 'Acme',
      credentialEnvVars: [],
    });
    await hostile.showVerification({ ...verification, verificationUriComplete: 'file:///etc/passwd' });
    hostile.close();
    expect(h.launched).toEqual([]);
    expect(h.stderr()).not.toContain('Opened your browser.');
  });

  it('in a terminal: a live countdown on the injected stderr, redrawn each second and cleared at the end', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let clock = now;
    const h = await start({ now, interactive: true });
    h.runtime.clock = { now: () => clock, sleep: async () => undefined };
    const ui = new TerminalUi(h.runtime, { browser: false, providerTitle: 'Acme', credentialEnvVars: [] });
    await ui.showVerification(verification);
    clock += 61_000;
    vi.advanceTimersByTime(1000);
    ui.info('Still waiting.');
    ui.close();
    const lines = h.stderr().split('\n');
    expect(lines.slice(3, -1)).toEqual([
      '\r\x1b[2KWaiting for approval... 10:00 left\r\x1b[2KWaiting for approval... 8:59 left\r\x1b[2KStill waiting.',
    ]);
    expect(h.stderr().endsWith('Still waiting.\n\r\x1b[2K')).toBe(true); // close() clears the live line
    // close() stops the timer: nothing more is drawn.
    const before = h.stderr();
    vi.advanceTimersByTime(5000);
    expect(h.stderr()).toBe(before);
  });
});

/** A person at a terminal: stdin, stdout and stderr are terminals, CI unset, a display for the browser. */
const terminal = (env: Record<string, string> = {}): FakeHostOptions => ({
  now,
  interactive: true,
  stdoutTty: true,
  env: { DISPLAY: ':0', ...env },
});
const ui = (
  h: FakeHost,
  extra: { qr?: boolean; clipboard?: boolean; json?: boolean; browser?: boolean } = {},
) =>
  new TerminalUi(h.runtime, {
    browser: true,
    providerTitle: 'Acme',
    credentialEnvVars: ['ACME_API_KEY'],
    ...extra,
  });
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('device-login comforts in a terminal', () => {
  it('a QR code under the URL that scans back to the URL, within 80x24', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await start(terminal());
    const shown = ui(h);
    await shown.showVerification(verification);
    shown.close();
    const lines = h.stderr().split('\n');
    expect(lines[1]).toBe('  https://acme.example/device?user_code=ABCDEFGH');
    const qr = blockQrLines(h.stderr());
    expect(qr.length).toBeGreaterThan(10);
    expect(qr.length).toBeLessThanOrEqual(20);
    expect(Math.max(...qr.map((l) => [...l].length))).toBeLessThanOrEqual(78);
    // Right under the URL, before the expiry line.
    expect(lines.slice(2, 2 + qr.length)).toEqual(qr.map((l) => `  ${l}`));
    expect(lines[2 + qr.length]).toBe('The code expires in 10 minutes.');
    expect(decodeBlockQr(qr)).toBe(verification.verificationUriComplete);
  });

  it('without a complete URL the QR code is of the verification URI', async () => {
    const h = await start(terminal());
    const shown = ui(h, { browser: false });
    await shown.showVerification({ ...verification, verificationUriComplete: undefined });
    shown.close();
    expect(decodeBlockQr(blockQrLines(h.stderr()))).toBe('https://acme.example/device');
  });

  it('a URL too long for a small QR code gets none; the URL is still shown', async () => {
    const h = await start(terminal());
    const shown = ui(h, { browser: false });
    const long = `https://acme.example/device?user_code=ABCDEFGH&pad=${'x'.repeat(200)}`;
    await shown.showVerification({ ...verification, verificationUriComplete: long });
    shown.close();
    expect(h.stderr()).toContain(`  ${long}\n`);
    expect(h.stderr()).not.toMatch(/[█▀▄]/u);
  });

  it('"Press Enter to open <host>": nothing opens until Enter, then the browser gets the URL', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await start(terminal({ ACME_API_KEY: 'acme-secret' }));
    const shown = ui(h);
    await shown.showVerification(verification);
    expect(h.stderr()).toContain('Press Enter to open acme.example in your browser...\n');
    // showVerification returned (the flow polls) while the wait for Enter goes on.
    expect(h.waitingForEnter()).toBe(true);
    expect(h.launched).toEqual([]);
    h.pressEnter();
    await flush();
    expect(h.launched.map((l) => [l.command, ...l.args])).toEqual([
      ['xdg-open', 'https://acme.example/device?user_code=ABCDEFGH'],
    ]);
    expect(Object.keys(h.launched[0]!.env)).not.toContain('ACME_API_KEY');
    expect(h.stderr()).toContain('\r\x1b[2KOpened your browser.\n');
    shown.close();
  });

  it('the flow ending before Enter stops the wait; a late Enter opens nothing', async () => {
    const h = await start(terminal());
    const shown = ui(h);
    await shown.showVerification(verification);
    shown.close();
    await flush();
    expect(h.waitingForEnter()).toBe(false);
    h.pressEnter();
    await flush();
    expect(h.launched).toEqual([]);
  });

  it('a URL that is not http(s): no "Press Enter" line, nothing opened', async () => {
    const h = await start(terminal());
    const shown = ui(h, { qr: false });
    await shown.showVerification({ ...verification, verificationUriComplete: 'file:///etc/passwd' });
    expect(h.waitingForEnter()).toBe(false);
    shown.close();
    expect(h.stderr()).not.toContain('Press Enter');
    expect(h.launched).toEqual([]);
  });

  it('--no-browser, or no display: no "Press Enter" line and no wait', async () => {
    const h = await start(terminal());
    const shown = ui(h, { browser: false });
    await shown.showVerification(verification);
    shown.close();
    expect(h.stderr()).not.toContain('Press Enter');
    const headless = await fakeHost({ now, interactive: true, stdoutTty: true });
    try {
      const other = ui(headless);
      await other.showVerification(verification);
      other.close();
      expect(headless.stderr()).not.toContain('Press Enter');
      expect(headless.launched).toEqual([]);
    } finally {
      await headless.dispose();
    }
  });

  it('--no-qr: the URL and code without a QR code', async () => {
    const h = await start(terminal());
    const shown = ui(h, { qr: false, browser: false });
    await shown.showVerification(verification);
    shown.close();
    expect(h.stderr()).not.toMatch(/[█▀▄]/u);
    expect(h.stderr()).toContain(
      '  https://acme.example/device?user_code=ABCDEFGH\nThe code expires in 10 minutes.\n',
    );
  });

  it("--clipboard: OSC 52 to the terminal and the code on a tool's standard input, never in argv", async () => {
    const h = await start({
      ...terminal({ ACME_API_KEY: 'acme-secret', LATCHKEY_X_TOKEN: 'x' }),
      clipboardTools: ['xsel'],
    });
    const shown = ui(h, { clipboard: true, browser: false });
    await shown.showVerification(verification);
    shown.close();
    expect(osc52('ABCD-EFGH')).toBe('\x1b]52;c;QUJDRC1FRkdI\x07');
    expect(h.stderr()).toContain(osc52('ABCD-EFGH'));
    // xclip is tried first (it fails here), then xsel copies it.
    expect(h.clipboard.map((c) => [c.command, ...c.args, c.text])).toEqual([
      ['xclip', '-selection', 'clipboard', 'ABCD-EFGH'],
      ['xsel', '--clipboard', '--input', 'ABCD-EFGH'],
    ]);
    expect(
      Object.keys(h.clipboard[0]!.env).filter((k) => k === 'ACME_API_KEY' || k.startsWith('LATCHKEY_')),
    ).toEqual([]);
    expect(h.stderr()).toContain('Copied the code ABCD-EFGH to the clipboard.\n');
  });

  it('--clipboard with no tool that works: OSC 52 only, and says so', async () => {
    const h = await start({ now, interactive: true, stdoutTty: true, env: { WAYLAND_DISPLAY: 'wayland-0' } });
    const shown = ui(h, { clipboard: true, browser: false });
    await shown.showVerification(verification);
    shown.close();
    expect(h.clipboard.map((c) => c.command)).toEqual(['wl-copy']);
    expect(h.stderr()).toContain(osc52('ABCD-EFGH'));
    expect(h.stderr()).toContain("Sent the code ABCD-EFGH to your terminal's clipboard (OSC 52).\n");
  });

  it.each([
    ['stdout is a pipe', { ...terminal(), stdoutTty: false }, {}],
    ['stderr and stdin are pipes', { now, stdoutTty: true, env: { DISPLAY: ':0' } }, {}],
    ['CI is set', terminal({ CI: 'true' }), {}],
    ['--json', terminal(), { json: true }],
  ])('%s: no QR code, no "Press Enter", no clipboard', async (_name, options, extra) => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const h = await start(options);
    const shown = ui(h, { clipboard: true, ...extra });
    await shown.showVerification(verification);
    shown.close();
    expect(h.stderr()).not.toMatch(/[█▀▄]|Press Enter|clipboard/u);
    expect(h.stderr()).not.toContain(']52;');
    expect(h.clipboard).toEqual([]);
    expect(h.waitingForEnter()).toBe(false);
  });
});
