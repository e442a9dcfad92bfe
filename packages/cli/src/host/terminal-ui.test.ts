/**
 * What a person sees during a device login, through the runtime's injected stderr and browser launcher:
 * the URL and code, the browser (only where it may be opened, and never with a credential in its
 * environment), and the live countdown in a terminal.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeHost, type FakeHost, type FakeHostOptions } from '../testing/fake-host.js';
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
