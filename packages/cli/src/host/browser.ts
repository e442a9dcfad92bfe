import { spawn } from 'node:child_process';
import { isCi } from './runtime.js';

/**
 * Opens a browser only where a person can see it: a terminal, not CI, a display on Linux (an SSH session
 * without X forwarding has none), and not `--no-browser`. `BROWSER` chooses the program.
 */
export function shouldOpenBrowser(options: {
  wanted: boolean;
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}): boolean {
  const { env } = options;
  const platform = options.platform ?? process.platform;
  if (!options.wanted || !options.interactive || isCi(env)) return false;
  if (env.BROWSER === 'none') return false;
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.BROWSER);
  }
  if (platform === 'darwin' && (env.SSH_CONNECTION || env.SSH_TTY) && !env.BROWSER) return false;
  return true;
}

/** Starts the browser detached; failures are reported by the returned promise, never thrown at the user. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const [command, args] =
    env.BROWSER !== undefined && env.BROWSER !== ''
      ? [env.BROWSER, [url]]
      : process.platform === 'darwin'
        ? ['open', [url]]
        : process.platform === 'win32'
          ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
          : ['xdg-open', [url]];
  return new Promise((resolve) => {
    try {
      const child = spawn(command, args, { detached: true, stdio: 'ignore' });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
