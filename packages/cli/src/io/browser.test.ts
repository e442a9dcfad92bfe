import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchDetached } from './browser.js';

/** The real launcher: a real child process, started detached with exactly the environment given. */
describe('launchDetached', () => {
  it('starts the program with the URL as its one argument and only the given environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'latchkey-browser-'));
    try {
      const script = join(dir, 'browser.sh');
      const seen = join(dir, 'seen');
      await writeFile(
        script,
        `#!/bin/sh\nprintf '%s|%s|%s' "$1" "$#" "\${NANOGPT_API_KEY-unset}" > '${seen}.tmp' && mv '${seen}.tmp' '${seen}'\n`,
      );
      await chmod(script, 0o755);
      const url = 'http://127.0.0.1:1/cli-login/verify?code=ABCD-EFGH&x=%41';
      expect(await launchDetached(script, [url], { PATH: process.env.PATH })).toBe(true);
      // The program runs on its own; wait (bounded) for the file it writes.
      let text = '';
      for (let i = 0; i < 100 && text === ''; i++) {
        text = await readFile(seen, 'utf8').catch(() => '');
        if (text === '') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(text).toBe(`${url}|1|unset`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing program as false instead of throwing', async () => {
    expect(await launchDetached('/nonexistent/browser', ['http://127.0.0.1:1/'], {})).toBe(false);
  });
});
