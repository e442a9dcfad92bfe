import type { BrowserLauncher } from '../runtime/ports.js';
import { isCi } from '../runtime/environment.js';

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

/**
 * Whether a browser can be opened on this machine for the person at the terminal, which makes the browser
 * sign-in the default where a provider has both it and a device flow: a terminal, not CI, not an SSH
 * session (the browser would open on the remote machine, or nowhere), a display on Linux, and not
 * `--no-browser`.
 */
export function browserAvailable(options: {
  wanted: boolean;
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}): boolean {
  const { env } = options;
  if (env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) return false;
  return shouldOpenBrowser(options);
}

/** What `openBrowser` needs from the outside: the runtime's environment, platform and launcher. */
export interface BrowserOptions {
  env: NodeJS.ProcessEnv;
  /** Variables that hold credentials (every provider's own); removed from the browser's environment. */
  credentialEnvVars?: readonly string[];
  platform: NodeJS.Platform;
  /** Starts the program (the runtime's `browser`, `io/browser.ts` in the real process). */
  launch: BrowserLauncher;
}

/**
 * The program and arguments that open `url`. Never a shell: on Windows `cmd /c start` would parse `&`, `^`
 * and `%` in a server-chosen URL, so `rundll32 url.dll,FileProtocolHandler` receives it as one argument.
 */
export function browserCommand(
  url: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): [string, string[]] {
  if (env.BROWSER !== undefined && env.BROWSER !== '') return [env.BROWSER, [url]];
  if (platform === 'darwin') return ['open', [url]];
  if (platform === 'win32') return ['rundll32', ['url.dll,FileProtocolHandler', url]];
  return ['xdg-open', [url]];
}

/**
 * The environment for the browser: latchkey's own variables (`LATCHKEY_*`, tokens included) and every
 * provider credential variable removed, so a browser (or a `BROWSER` script) never inherits a secret.
 */
export function browserEnv(env: NodeJS.ProcessEnv, credentialEnvVars: readonly string[]): NodeJS.ProcessEnv {
  const secret = new Set(credentialEnvVars);
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith('LATCHKEY_') || secret.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Starts the browser detached on an http(s) URL, and on nothing else (a `file:`, `javascript:` or custom
 * scheme from a server is refused here, whatever the caller checked), with the program `browserCommand()`
 * names and the environment `browserEnv()` leaves. Failures are reported by the returned promise (false),
 * never thrown at the user.
 */
export async function openBrowser(url: string, options: BrowserOptions): Promise<boolean> {
  let target: string;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
    target = parsed.href;
  } catch {
    return false;
  }
  const [command, args] = browserCommand(target, options.env, options.platform);
  try {
    return await options.launch(command, args, browserEnv(options.env, options.credentialEnvVars ?? []));
  } catch {
    return false; // a launcher that throws must not reach the user either
  }
}
