/**
 * The masked prompt's answer passes the same shared token check as every other input: in a REAL terminal
 * (tmux), a pasted value with a space is refused before any request, and the user may paste again.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultCliBin } from '@latchkey/conformance/tools';
import { startNanoctlEmulator } from '@latchkey/testkit';
import { RUN_TIMEOUT_MS, hasTmux, tmuxPerTest } from './harness.js';

const { tmux, next: nextTmuxServer } = tmuxPerTest('prompt-check');

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await nextTmuxServer();
  for (const cleanup of cleanups) await cleanup();
});

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

describe.runIf(hasTmux)('the masked prompt (tmux)', () => {
  it('a pasted token with a space: refused by the shared check, no request, then a good one signs in', async () => {
    const emulator = await startNanoctlEmulator();
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-prompt-check-'));
    cleanups.push(
      () => emulator.close(),
      () => rm(dir, { recursive: true, force: true }),
    );
    const { token } = emulator.addToken({ username: 'grace' });
    const env = {
      HOME: dir,
      XDG_CACHE_HOME: join(dir, 'cache'),
      LATCHKEY_CONFIG_DIR: join(dir, 'config'),
      LATCHKEY_STORAGE: 'file',
      LATCHKEY_NANOCTL_BASE_URL: emulator.url,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TERM: 'xterm-256color',
    };
    const script = join(dir, 'run.sh');
    await writeFile(
      script,
      `#!/bin/sh\nunset CI\n${Object.entries(env)
        .map(([k, v]) => `export ${k}='${v}'`)
        .join(
          '\n',
        )}\n'${process.execPath}' '${defaultCliBin()}' auth login --provider nanoctl\necho "EXIT=$?"\nsleep 30\n`,
    );
    await chmod(script, 0o755);
    tmux('new-session', '-d', '-s', 'check', '-x', '160', '-y', '40', script);
    const screen = () => tmux('capture-pane', '-p', '-t', 'check');
    const type = (text: string) => {
      tmux('send-keys', '-t', 'check', '-l', text);
      tmux('send-keys', '-t', 'check', 'Enter');
    };

    await waitFor(screen, 'Paste your Nanoservices token');
    type('nsv_pasted with words');
    await waitFor(screen, 'The token from the prompt contains a space');
    await waitFor(screen, 'Try again, or press Ctrl-C to stop.');
    expect(emulator.requests).toEqual([]);
    type(token);
    const final = await waitFor(screen, /EXIT=\d+/);
    expect(final, final).toContain('EXIT=0');
    expect(final).not.toContain('pasted with');
    expect(emulator.requests.map((r) => r.status)).toEqual([200]);
  });
});
