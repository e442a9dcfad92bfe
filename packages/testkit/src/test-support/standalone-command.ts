/**
 * For the tests of the standalone commands (src/bin): runs a built command as a child process and reads
 * what it prints. Test-only: the build leaves this folder out (tsconfig.build.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

/**
 * How long a command may take to print what a test waits for. Generous on purpose: starting Node and
 * better-auth on a loaded 2-core CI machine has taken more than 5 s. The waits are driven by the output
 * itself (no polling), so a fast machine never waits longer than the command does.
 */
export const OUTPUT_TIMEOUT_MS = 60_000;

export interface RunningCommand {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Waits for the first line on stdout (the ready line every command prints) and parses it as JSON. */
  readyLine<T = Record<string, unknown>>(): Promise<T>;
  /** Waits until stderr contains `text`; rejects when the command exits first or after OUTPUT_TIMEOUT_MS. */
  stderrIncludes(text: string): Promise<void>;
  /** Waits until the process has exited and its output is closed; its exit code (null when killed). */
  exitCode(): Promise<number | null>;
}

/**
 * Returns a starter for `dist/bin/<name>.js` (the built command: turbo runs `build` before `test`). Call it
 * at the top of a test file: a command still running when a test ends is killed.
 */
export function commandStarter(name: string): (args: string[]) => RunningCommand {
  const bin = fileURLToPath(new URL(`../../dist/bin/${name}.js`, import.meta.url));
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  return (args) => {
    const running = startScript(bin, args, name);
    child = running.child;
    return running;
  };
}

/** Runs a Node script as a child process (the caller kills it); `name` labels its output in errors. */
export function startScript(file: string, args: string[], name: string): RunningCommand {
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = outputWatcher(`${name} stdout`);
  const err = outputWatcher(`${name} stderr`);
  proc.stdout!.setEncoding('utf8').on('data', out.feed);
  proc.stderr!.setEncoding('utf8').on('data', err.feed);
  const closed = once(proc, 'close') as Promise<[number | null]>;
  void closed.then(
    ([code]) => {
      out.end(code);
      err.end(code);
    },
    () => {},
  );
  return {
    child: proc,
    stdout: out.text,
    stderr: err.text,
    async readyLine<T>() {
      const text = await out.until((seen) => seen.includes('\n'), 'the ready line');
      return JSON.parse(text.slice(0, text.indexOf('\n'))) as T;
    },
    async stderrIncludes(text) {
      await err.until((seen) => seen.includes(text), JSON.stringify(text));
    },
    exitCode: async () => (await closed)[0],
  };
}

/**
 * Text arriving on one stream, with waits that settle as soon as the text matches, when the stream ends
 * without it (the command exited: fail at once with what it printed), or after OUTPUT_TIMEOUT_MS.
 */
function outputWatcher(stream: string) {
  let seen = '';
  let ended: string | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  return {
    text: () => seen,
    feed(chunk: string) {
      seen += chunk;
      wake();
    },
    end(code: number | null) {
      ended = `the command exited (code ${code})`;
      wake();
    },
    until(test: (text: string) => boolean, what: string): Promise<string> {
      return new Promise<string>((resolve, reject) => {
        const settle = (error?: Error) => {
          waiters.delete(check);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve(seen);
        };
        const check = () => {
          if (test(seen)) settle();
          else if (ended) settle(new Error(`${stream}: ${ended} before ${what}; it printed:\n${seen}`));
        };
        const timer = setTimeout(
          () =>
            settle(new Error(`${stream}: no ${what} within ${OUTPUT_TIMEOUT_MS} ms; it printed:\n${seen}`)),
          OUTPUT_TIMEOUT_MS,
        );
        waiters.add(check);
        check();
      });
    },
  };
}
