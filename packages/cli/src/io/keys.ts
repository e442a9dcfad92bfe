import type { EnterKey } from '../runtime/ports.js';

/**
 * Waits for Enter on the terminal in raw mode, so nothing typed is echoed into the live countdown. Raw mode
 * also swallows Ctrl-C, so it is passed on as SIGINT (the command's cancellation, exit 130). The terminal
 * is restored and stdin released when Enter comes or `signal` aborts.
 */
export const waitForEnter: EnterKey = (signal) => {
  const stdin = process.stdin;
  if (!stdin.isTTY || signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (pressed: boolean) => {
      stdin.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      stdin.setRawMode(false);
      stdin.pause();
      resolve(pressed);
    };
    const onData = (chunk: Buffer) => {
      if (chunk.includes(0x03)) {
        done(false);
        process.kill(process.pid, 'SIGINT');
      } else if (chunk.includes(0x0d) || chunk.includes(0x0a)) {
        done(true);
      }
    };
    const onAbort = () => done(false);
    signal.addEventListener('abort', onAbort, { once: true });
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  });
};
