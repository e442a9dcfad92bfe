import type { BrowserLauncher } from '../runtime/ports.js';

/**
 * Starts a program detached, without a shell, with exactly the environment given; resolves true once it
 * started and false when it could not (never throws). The rules for what may be opened, with which program
 * and environment, are the host's (`terminal/browser.ts`); this only starts the process.
 */
export const launchDetached: BrowserLauncher = async (command, args, env) => {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    try {
      const child = spawn(command, [...args], { detached: true, stdio: 'ignore', env, windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
};
