import type { ClipboardTool } from '../runtime/ports.js';

/** A clipboard tool that has not finished by then is left alone (xclip and wl-copy keep serving it). */
const timeoutMs = 2000;

/**
 * Runs a clipboard tool with `text` on its standard input (never in argv, where `ps` shows it) and exactly
 * the environment given; true when it exited 0 in time, false when it is missing or failed (never throws).
 */
export const copyWithTool: ClipboardTool = async (command, args, text, env) => {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    try {
      const child = spawn(command, [...args], {
        stdio: ['pipe', 'ignore', 'ignore'],
        env,
        windowsHide: true,
      });
      const timer = setTimeout(() => {
        child.unref();
        resolve(false);
      }, timeoutMs);
      timer.unref();
      child.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code === 0);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(text);
    } catch {
      resolve(false);
    }
  });
};
