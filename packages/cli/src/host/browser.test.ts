import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openBrowser, shouldOpenBrowser } from './browser.js';

/** A spawn that records what it was asked to start and reports a started child. */
function recordingSpawn() {
  const calls: Array<{ command: string; args: string[]; env: NodeJS.ProcessEnv | undefined }> = [];
  const fake = ((command: string, args: string[], options: { env?: NodeJS.ProcessEnv }) => {
    calls.push({ command, args, env: options.env });
    const child = Object.assign(new EventEmitter(), { unref: () => undefined });
    queueMicrotask(() => child.emit('spawn'));
    return child;
  }) as unknown as typeof spawn;
  return { calls, spawn: fake };
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

  it('CI=false does not count as CI', () => {
    expect(shouldOpenBrowser({ ...base, env: { DISPLAY: ':0', CI: 'false' } })).toBe(true);
  });
});

describe('openBrowser', () => {
  it('runs $BROWSER with the URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-browser-'));
    try {
      const script = join(dir, 'browser.sh');
      const seen = join(dir, 'seen');
      await writeFile(script, `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`);
      await chmod(script, 0o755);
      const url = 'http://127.0.0.1:1/cli-login/verify?code=ABCD-EFGH';
      expect(await openBrowser(url, { env: { BROWSER: script } })).toBe(true);
      for (let i = 0; i < 50; i++) {
        const text = await readFile(seen, 'utf8').catch(() => '');
        if (text) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await readFile(seen, 'utf8')).toBe(url);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing browser program instead of throwing', async () => {
    expect(await openBrowser('http://127.0.0.1:1/', { env: { BROWSER: '/nonexistent/browser' } })).toBe(
      false,
    );
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
      const recorder = recordingSpawn();
      expect(await openBrowser(url, { env: {}, platform, spawn: recorder.spawn })).toBe(true);
      expect(recorder.calls.map(({ command, args }) => ({ command, args }))).toEqual([{ command, args }]);
    });
  }

  it('opens nothing but http(s) URLs', async () => {
    const recorder = recordingSpawn();
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
        expect(await openBrowser(bad, { env: {}, platform, spawn: recorder.spawn })).toBe(false);
      }
    }
    expect(recorder.calls).toEqual([]);
  });

  it('gives the browser an environment without any credential variable', async () => {
    const recorder = recordingSpawn();
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
      spawn: recorder.spawn,
    });
    expect(recorder.calls[0]!.env).toEqual({ PATH: '/usr/bin', DISPLAY: ':0' });
    expect(env.NANOGPT_API_KEY).toBe('sk-nano-secret');
  });
});
