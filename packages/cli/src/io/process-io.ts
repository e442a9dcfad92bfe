import type { HostIo } from '../runtime/ports.js';
import { launchDetached } from './browser.js';
import { copyWithTool } from './clipboard.js';
import { waitForEnter } from './keys.js';
import { inquirerPrompter } from './prompter.js';

/** The real process: its streams, environment and platform, inquirer prompts, a detached browser, the Enter key
 * and clipboard tools. */
export function processIo(signal: AbortSignal): HostIo {
  return {
    env: process.env,
    platform: process.platform,
    stdinIsTty: Boolean(process.stdin.isTTY),
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    prompter: inquirerPrompter(process.stderr, signal),
    browser: launchDetached,
    enterKey: waitForEnter,
    clipboard: copyWithTool,
  };
}

function writer(stream: NodeJS.WriteStream): HostIo['stdout'] {
  return { write: (text) => void stream.write(text), isTTY: Boolean(stream.isTTY) };
}
