import { browserEnv } from './browser.js';
import type { Runtime } from '../runtime/ports.js';

/**
 * The system clipboard tools worth trying here, in order: the one for the display in use first. Each gets
 * the text on standard input.
 */
export function clipboardCommands(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): Array<[string, string[]]> {
  if (platform === 'darwin') return [['pbcopy', []]];
  if (platform === 'win32') return [['clip.exe', []]];
  const tools: Array<[string, string[]]> = [];
  if (env.WAYLAND_DISPLAY) tools.push(['wl-copy', []]);
  if (env.DISPLAY) {
    tools.push(['xclip', ['-selection', 'clipboard']], ['xsel', ['--clipboard', '--input']]);
  }
  if (env.WSL_DISTRO_NAME) tools.push(['clip.exe', []]);
  return tools;
}

/** OSC 52: asks the terminal itself to put `text` on the clipboard; it travels over SSH and tmux. */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}

/**
 * Copies `text` (a user code, never a secret) to the clipboard: OSC 52 to the terminal on stderr, and the
 * first system tool that works, run without latchkey's or any provider's credential variables. True when a
 * tool confirmed it; the terminal cannot say whether it allowed OSC 52.
 */
export async function copyToClipboard(
  runtime: Runtime,
  text: string,
  credentialEnvVars: readonly string[],
): Promise<boolean> {
  // The one other control sequence latchkey writes itself (beside the countdown), so it skips say().
  runtime.stderr.write(osc52(text));
  const env = browserEnv(runtime.env, credentialEnvVars);
  for (const [command, args] of clipboardCommands(runtime.env, runtime.platform)) {
    if (await runtime.clipboard(command, args, text, env)) return true;
  }
  return false;
}
