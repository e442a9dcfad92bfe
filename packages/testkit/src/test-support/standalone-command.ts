/**
 * For the tests of the standalone commands (src/bin): runs a built command as a child process and reads
 * what it prints. Test-only: the build leaves this folder out (tsconfig.build.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export interface RunningCommand {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Everything printed on stderr so far. */
  stderr(): string;
  /** Waits for the first line on stdout (the ready line every command prints) and parses it as JSON. */
  readyLine<T = Record<string, unknown>>(): Promise<T>;
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
    const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let out = '';
    let err = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
    const closed = once(proc, 'close') as Promise<[number | null]>;
    return {
      child: proc,
      stdout: () => out,
      stderr: () => err,
      async readyLine<T>() {
        await until(() => out.includes('\n'), 'the ready line on stdout');
        return JSON.parse(out.slice(0, out.indexOf('\n'))) as T;
      },
      exitCode: async () => (await closed)[0],
    };
  };
}

/** Polls `check` every 25 ms for up to 5 s. */
export async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}
