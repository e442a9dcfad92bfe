/**
 * Runs the built `latchkey` binary the way a user or a CI job would: a real child process, no terminal,
 * a clean environment and a throwaway config directory, recording every run so a test can assert on the
 * bytes on stdout/stderr, the exit code, and that no secret leaked.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mask } from '@latchkey/errors';

export interface CliRun {
  args: string[];
  stdout: string;
  stderr: string;
  /** null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface RunOptions {
  /** Merged over the session's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. Without it stdin is closed at once (empty, not a TTY). */
  input?: string;
  /** Default 30000; then the process is killed with SIGKILL and the run fails. */
  timeoutMs?: number;
  /** Live stderr, e.g. to read a user code while the login is still polling. */
  onStderr?: (chunk: string) => void;
  /** Live stdout. */
  onStdout?: (chunk: string) => void;
  /** On abort the process gets SIGINT, as on Ctrl-C; the run then ends however the process ends. */
  signal?: AbortSignal;
  /** spawn() only: leave stdin open after `input` so the test can keep writing to `child.stdin`. */
  keepStdinOpen?: boolean;
}

export interface CliSession {
  /** The session's LATCHKEY_CONFIG_DIR: a fresh temporary directory. */
  readonly configDir: string;
  /** The session's HOME: another fresh temporary directory. */
  readonly homeDir: string;
  /** Every finished run, in the order they ended (also runs that timed out). */
  readonly runs: CliRun[];
  run(args: string[], options?: RunOptions): Promise<CliRun>;
  spawn(args: string[], options?: RunOptions): { child: ChildProcess; done: Promise<CliRun> };
  /** Kills any process still running and removes the temporary directories. */
  dispose(): Promise<void>;
}

export interface CliSessionOptions {
  /** Path to the CLI entry script; default env LATCHKEY_BIN, else packages/cli/bin/run.cjs. */
  bin?: string;
  /** Extra environment for every run of this session. */
  env?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** packages/cli/bin/run.cjs, found from this file (dist/cli-runner.js, or src/cli-runner.ts under vitest). */
export function defaultCliBin(): string {
  return fileURLToPath(new URL('../../cli/bin/run.cjs', import.meta.url));
}

/** Creates a session: its own config dir and HOME, shared by every run so that `login` then `status` works. */
export async function createCliSession(options: CliSessionOptions = {}): Promise<CliSession> {
  const bin = options.bin ?? process.env.LATCHKEY_BIN ?? defaultCliBin();
  const configDir = await mkdtemp(join(tmpdir(), 'latchkey-config-'));
  const homeDir = await mkdtemp(join(tmpdir(), 'latchkey-home-'));
  // The session's own temporary directory, removed with its HOME: what the CLI and the programs it starts
  // write there (npm's compile cache, for one, under `plugins install`) never lands in the machine's /tmp.
  const tempDir = join(homeDir, 'tmp');
  await mkdir(tempDir, { mode: 0o700 });
  const runs: CliRun[] = [];
  const live = new Set<ChildProcess>();

  // Nothing from the developer's own environment leaks in: no real tokens, no real keychain, no colours.
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: homeDir,
    XDG_CONFIG_HOME: join(homeDir, '.config'),
    XDG_DATA_HOME: join(homeDir, '.local', 'share'),
    XDG_CACHE_HOME: join(homeDir, '.cache'),
    TMPDIR: tempDir,
    LATCHKEY_CONFIG_DIR: configDir,
    LATCHKEY_STORAGE: 'file',
    NO_COLOR: '1',
    CI: '1',
    TERM: 'dumb',
    ...options.env,
  };

  function spawn(
    args: string[],
    runOptions: RunOptions = {},
  ): { child: ChildProcess; done: Promise<CliRun> } {
    const env: Record<string, string> = { ...baseEnv };
    for (const [name, value] of Object.entries(runOptions.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const timeoutMs = runOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const child = spawnChild(process.execPath, [bin, ...args], {
      cwd: homeDir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    live.add(child);

    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      runOptions.onStdout?.(chunk);
    });
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      runOptions.onStderr?.(chunk);
    });
    // The process may exit without reading stdin; that is not the test's failure.
    child.stdin!.on('error', () => {});
    if (runOptions.input !== undefined) child.stdin!.write(runOptions.input);
    if (!runOptions.keepStdinOpen) child.stdin!.end();

    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = () => child.kill('SIGINT');
    if (runOptions.signal?.aborted) onAbort();
    else runOptions.signal?.addEventListener('abort', onAbort, { once: true });

    const done = new Promise<CliRun>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        clearTimeout(timer);
        runOptions.signal?.removeEventListener('abort', onAbort);
        live.delete(child);
      };
      child.once('error', (error) => {
        if (settled) return;
        settled = true;
        finish();
        reject(
          new Error(`Could not start ${describeRun(args)} (${bin}): ${error.message}`, { cause: error }),
        );
      });
      child.once('close', (exitCode, signal) => {
        if (settled) return;
        settled = true;
        finish();
        const run: CliRun = { args, stdout, stderr, exitCode, signal };
        runs.push(run);
        if (timedOut) {
          reject(
            new Error(
              `${describeRun(args)} did not finish within ${timeoutMs} ms and was killed.\n` +
                `--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`,
            ),
          );
        } else {
          resolve(run);
        }
      });
    });
    return { child, done };
  }

  let disposed: Promise<void> | undefined;
  return {
    configDir,
    homeDir,
    runs,
    spawn,
    run: (args, runOptions) => spawn(args, runOptions).done,
    dispose() {
      disposed ??= (async () => {
        await Promise.all(
          [...live].map(
            (child) =>
              new Promise<void>((resolve) => {
                child.once('close', () => resolve());
                child.kill('SIGKILL');
              }),
          ),
        );
        await rm(configDir, { recursive: true, force: true });
        await rm(homeDir, { recursive: true, force: true });
      })();
      return disposed;
    },
  };
}

export interface SecretLeakOptions {
  /** Runs whose stdout may contain the secret; default: `auth token ...` (it prints the credential by design). */
  stdoutAllowed?: (run: CliRun) => boolean;
}

/**
 * Throws when any secret appears on stderr of any run, or on stdout of a run not allowed to print it.
 * The error names each run and stream, and shows secrets only masked.
 */
export function assertNoSecretLeaks(
  runs: CliRun[],
  secrets: string[],
  options: SecretLeakOptions = {},
): void {
  const stdoutAllowed =
    options.stdoutAllowed ?? ((run: CliRun) => run.args[0] === 'auth' && run.args[1] === 'token');
  const wanted = secrets.filter((secret) => secret !== '');
  const leaks: string[] = [];
  for (const run of runs) {
    const shown = describeRun(run.args.map((arg) => hideSecrets(arg, wanted)));
    for (const secret of wanted) {
      if (run.stderr.includes(secret)) leaks.push(`stderr of ${shown} contains ${mask(secret)}`);
      if (run.stdout.includes(secret) && !stdoutAllowed(run))
        leaks.push(`stdout of ${shown} contains ${mask(secret)}`);
    }
  }
  if (leaks.length > 0) throw new Error(`Secret leaked:\n${leaks.map((leak) => `  - ${leak}`).join('\n')}`);
}

function hideSecrets(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(mask(secret));
  return out;
}

function describeRun(args: string[]): string {
  return `\`latchkey ${args.join(' ')}\``;
}
