import type { HostIo } from '../host/runtime.js';
import { launchDetached } from './browser.js';
import { inquirerPrompter } from './prompter.js';

/** The real process: its streams, environment and platform, inquirer prompts and a detached browser. */
export function processIo(signal: AbortSignal): HostIo {
  return {
    env: process.env,
    platform: process.platform,
    stdinIsTty: Boolean(process.stdin.isTTY),
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    prompter: inquirerPrompter(process.stderr, signal),
    browser: launchDetached,
  };
}

function writer(stream: NodeJS.WriteStream): HostIo['stdout'] {
  return { write: (text) => void stream.write(text), isTTY: Boolean(stream.isTTY) };
}
