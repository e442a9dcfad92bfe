/**
 * Running npm, for `plugins install`'s configuration check (plugins/npm-config.ts holds the logic): the user's own
 * `npm` from PATH, or the copy @oclif/plugin-plugins pins.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { NpmRunner } from '../plugins/npm-config.js';

export const runNpm: NpmRunner = (npm, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(
      npm.command,
      [...npm.args, ...args],
      {
        cwd: homedir(),
        timeout: timeoutMs,
        maxBuffer: 1024 * 1024,
        encoding: 'utf8',
        shell: process.platform === 'win32',
        // npm must not stop to ask or to print update notices.
        env: { ...process.env, npm_config_update_notifier: 'false' },
      },
      (error, stdout) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout: String(stdout ?? '') });
      },
    );
  });

/** The npm @oclif/plugin-plugins pins (what `plugins install` runs), as `node npm-cli.js`. */
export function pinnedNpm(): { command: string; args: string[] } | undefined {
  try {
    const plugins = createRequire(import.meta.url).resolve('@oclif/plugin-plugins');
    const npmPjson = createRequire(plugins).resolve('npm/package.json');
    return { command: process.execPath, args: [join(dirname(npmPjson), 'bin', 'npm-cli.js')] };
  } catch {
    return undefined;
  }
}

/** The npms to ask, in order: the user's own `npm`, then the pinned one. */
export function npmCandidates(): Array<{ command: string; args: string[] } | undefined> {
  return [{ command: 'npm', args: [] }, pinnedNpm()];
}
