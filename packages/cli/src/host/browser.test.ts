import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openBrowser, shouldOpenBrowser } from './browser.js';

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
      expect(await openBrowser(url, { BROWSER: script })).toBe(true);
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
    expect(await openBrowser('http://127.0.0.1:1/', { BROWSER: '/nonexistent/browser' })).toBe(false);
  });
});
