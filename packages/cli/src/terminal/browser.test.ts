import { describe, expect, it } from 'vitest';
import { openBrowser, shouldOpenBrowser } from './browser.js';
import type { BrowserLauncher } from '../runtime/ports.js';

/** A launcher that records what it was asked to start and reports a started program. */
function recordingLauncher() {
  const calls: Array<{ command: string; args: readonly string[]; env: NodeJS.ProcessEnv }> = [];
  const launch: BrowserLauncher = async (command, args, env) => {
    calls.push({ command, args, env });
    return true;
  };
  return { calls, launch };
}

describe('shouldOpenBrowser', () => {
  const base = { wanted: true, interactive: true, platform: 'linux' as const };

  it('opens in a terminal with a display', () => {
    expect(shouldOpenBrowser({ ...base, env: { DISPLAY: ':0' } })).toBe(true);
    expect(shouldOpenBrowser({ ...base, env: { WAYLAND_DISPLAY: 'wayland-0' } })).toBe(true);
  });

  it('never in CI, without a terminal, with --no-browser, or over SSH without a display', () => {
    expect(shouldOpenBrowser({ ...base, env: { DISPLAY: ':0', CI: 'true' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, interactive: false, env: { DISPLAY: ':0' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, wanted: false, env: { DISPLAY: ':0' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, env: { SSH_CONNECTION: '1 2 3 4' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, platform: 'darwin', env: { SSH_TTY: '/dev/pts/1' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, env: { DISPLAY: ':0', BROWSER: 'none' } })).toBe(false);
  });

  it("over SSH on macOS: not without BROWSER (the screen there is not the user's), yes with it", () => {
    const mac = { ...base, platform: 'darwin' as const };
    expect(shouldOpenBrowser({ ...mac, env: {} })).toBe(true);
    expect(shouldOpenBrowser({ ...mac, env: { SSH_CONNECTION: '1 2 3 4' } })).toBe(false);
    expect(shouldOpenBrowser({ ...mac, env: { SSH_TTY: '/dev/pts/1' } })).toBe(false);
    expect(shouldOpenBrowser({ ...mac, env: { SSH_TTY: '/dev/pts/1', BROWSER: 'w3m' } })).toBe(true);
  });

  it('over SSH on Linux: X forwarding (a DISPLAY) opens, no display does not', () => {
    expect(
      shouldOpenBrowser({ ...base, env: { SSH_CONNECTION: '1 2 3 4', DISPLAY: 'localhost:10.0' } }),
    ).toBe(true);
    expect(shouldOpenBrowser({ ...base, env: { SSH_CONNECTION: '1 2 3 4' } })).toBe(false);
    expect(shouldOpenBrowser({ ...base, env: { SSH_CONNECTION: '1 2 3 4', BROWSER: 'w3m' } })).toBe(true);
  });

  it('CI=false does not count as CI', () => {
    expect(shouldOpenBrowser({ ...base, env: { DISPLAY: ':0', CI: 'false' } })).toBe(true);
  });
});

describe('openBrowser', () => {
  it('runs $BROWSER with the URL', async () => {
    const recorder = recordingLauncher();
    const url = 'http://127.0.0.1:1/cli-login/verify?code=ABCD-EFGH';
    expect(
      await openBrowser(url, {
        env: { BROWSER: '/opt/bin/browse' },
        platform: 'linux',
        launch: recorder.launch,
      }),
    ).toBe(true);
    expect(recorder.calls.map(({ command, args }) => ({ command, args }))).toEqual([
      { command: '/opt/bin/browse', args: [url] },
    ]);
  });

  it('reports a launcher that fails or throws as false, never as an error', async () => {
    const options = { env: {}, platform: 'linux' as const };
    expect(await openBrowser('http://127.0.0.1:1/', { ...options, launch: async () => false })).toBe(false);
    const throwing: BrowserLauncher = () => {
      throw new Error('EACCES');
    };
    expect(await openBrowser('http://127.0.0.1:1/', { ...options, launch: throwing })).toBe(false);
  });

  const url = 'https://example.com/activate?user_code=ABCD-EFGH&x=%41^1';
  const platforms: Array<[NodeJS.Platform, string, string[]]> = [
    ['darwin', 'open', [url]],
    ['linux', 'xdg-open', [url]],
    ['freebsd', 'xdg-open', [url]],
    // Never `cmd /c start`: cmd would parse & ^ % in a server-chosen URL.
    ['win32', 'rundll32', ['url.dll,FileProtocolHandler', url]],
  ];
  for (const [platform, command, args] of platforms) {
    it(`on ${platform} runs ${command} with the URL as one argument, no shell`, async () => {
      const recorder = recordingLauncher();
      expect(await openBrowser(url, { env: {}, platform, launch: recorder.launch })).toBe(true);
      expect(recorder.calls.map(({ command, args }) => ({ command, args }))).toEqual([{ command, args }]);
    });
  }

  it('opens nothing but http(s) URLs', async () => {
    const recorder = recordingLauncher();
    for (const bad of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ms-settings:',
      'smb://evil/share',
      '--help',
      'calc.exe & whoami',
      '',
    ]) {
      for (const platform of ['win32', 'darwin', 'linux'] as const) {
        expect(await openBrowser(bad, { env: {}, platform, launch: recorder.launch })).toBe(false);
      }
    }
    expect(recorder.calls).toEqual([]);
  });

  it('gives the browser an environment without any credential variable', async () => {
    const recorder = recordingLauncher();
    const env = {
      PATH: '/usr/bin',
      DISPLAY: ':0',
      NANOGPT_API_KEY: 'sk-nano-secret',
      KANEO_API_KEY: 'kaneo-secret',
      LATCHKEY_NANOGPT_TOKEN: 'secret',
      LATCHKEY_ACME_TOKEN: 'secret',
      LATCHKEY_CONFIG_DIR: '/home/ada/.config/latchkey',
    };
    await openBrowser('http://127.0.0.1:8080/verify', {
      env,
      credentialEnvVars: ['NANOGPT_API_KEY', 'KANEO_API_KEY'],
      platform: 'linux',
      launch: recorder.launch,
    });
    expect(recorder.calls[0]!.env).toEqual({ PATH: '/usr/bin', DISPLAY: ':0' });
    expect(env.NANOGPT_API_KEY).toBe('sk-nano-secret');
  });
});
