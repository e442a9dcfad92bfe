import type { Config } from '@oclif/core';
import { HttpClient } from '@latchkey/http';
import { systemClock, type Clock } from '@latchkey/polling';
import {
  CredentialStore,
  resolveConfigDir,
  resolveStoragePreference,
  type LockHolderInfo,
  type SecretBackend,
} from '@latchkey/storage';
import { processIo } from '../io/process-io.js';
import { colours, colourWanted, paintMarks, type Colours } from './colour.js';
import { forTerminal, isCi, isDebug } from './environment.js';

export { forTerminal, isCi, isDebug, jsonForTerminal, readOnlyStore } from './environment.js';

/** A writable output stream as the host sees it: text in, and whether a person is watching. */
export interface OutputStream {
  write(text: string): void;
  readonly isTTY: boolean;
}

/** Questions for a person at a terminal (the adapter is `io/prompter.ts`); Ctrl-C rejects with CANCELLED. */
export interface Prompter {
  select(message: string, choices: ReadonlyArray<{ name: string; value: string }>): Promise<string>;
  /** A masked answer: nothing is echoed. `stop` takes the question away (rejects with CANCELLED). */
  password(message: string, stop?: AbortSignal): Promise<string>;
}

/**
 * Starts `command args` detached with exactly `env`, resolving true once it started (adapter:
 * `io/browser.ts`). What may be opened, and how, is decided by `openBrowser()` in `host/browser.ts`.
 */
export type BrowserLauncher = (
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
) => Promise<boolean>;

/**
 * Waits for the Enter key on the terminal without echoing anything, resolving true on Enter and false when
 * `signal` aborts first (adapter: `io/keys.ts`). Ctrl-C while waiting still cancels the command.
 */
export type EnterKey = (signal: AbortSignal) => Promise<boolean>;

/**
 * Gives `text` on standard input to `command args` (a clipboard tool), resolving true when it exited 0 in
 * time (adapter: `io/clipboard.ts`). Never argv: other users could read it in `ps`.
 */
export type ClipboardTool = (
  command: string,
  args: readonly string[],
  text: string,
  env: NodeJS.ProcessEnv,
) => Promise<boolean>;

/** The outside world a runtime is made from: the process (`io/process-io.ts`) or a test's fakes. */
export interface HostIo {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  stdinIsTty: boolean;
  stdout: OutputStream;
  stderr: OutputStream;
  prompter: Prompter;
  browser: BrowserLauncher;
  /** Default: no key ever comes. */
  enterKey?: EnterKey;
  /** Default: no clipboard tool. */
  clipboard?: ClipboardTool;
  clock?: Clock;
  /** The system keychain for the stores this runtime opens; default: the OS keychain. */
  keychain?: SecretBackend;
}

/** Everything the host's flows need from the outside world, in one place so tests and commands agree. */
export interface Runtime {
  config: Config;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  clock: Clock;
  signal: AbortSignal;
  /** stdin and stderr are terminals and CI is not set: prompts and live progress are allowed. */
  interactive: boolean;
  /** Raw streams: only the output boundary below and the live countdown write to them. */
  stdout: OutputStream;
  stderr: OutputStream;
  prompter: Prompter;
  browser: BrowserLauncher;
  enterKey: EnterKey;
  clipboard: ClipboardTool;
  keychain?: SecretBackend;
  /** Colour for each stream (off for pipes, NO_COLOR, and `--json`'s envelope, which skips `out`). */
  colours: { stdout: Colours; stderr: Colours };
  /** Human output (stderr), always sanitized and redacted. */
  say(line: string): void;
  /**
   * A warning (fallback, conflict, waiting): `! message` on stderr, and the command's `--json` envelope
   * lists it in `warnings` (the base command wraps this).
   */
  warn(message: string): void;
  /** Command results (stdout), sanitized and redacted like everything but `auth token`. */
  out(text: string): void;
  debug?: (line: string) => void;
  version: string;
}

export function createRuntime(config: Config, signal: AbortSignal, io: HostIo = processIo(signal)): Runtime {
  const { env, stdout, stderr } = io;
  const paint = {
    stdout: colours(colourWanted(env, stdout.isTTY)),
    stderr: colours(colourWanted(env, stderr.isTTY)),
  };
  const runtime: Runtime = {
    config,
    env,
    platform: io.platform,
    clock: io.clock ?? systemClock,
    signal,
    interactive: io.stdinIsTty && stderr.isTTY && !isCi(env),
    stdout,
    stderr,
    prompter: io.prompter,
    browser: io.browser,
    enterKey: io.enterKey ?? (async () => false),
    clipboard: io.clipboard ?? (async () => false),
    colours: paint,
    // Through `runtime.colours`, so a command can turn colour off after parsing its flags (`--json`).
    say: (line) => stderr.write(`${paintMarks(forTerminal(line), runtime.colours.stderr)}\n`),
    warn: (message) => stderr.write(`${paintMarks(forTerminal(`! ${message}`), runtime.colours.stderr)}\n`),
    out: (text) => stdout.write(paintMarks(forTerminal(text), runtime.colours.stdout)),
    version: config.version,
  };
  if (io.keychain) runtime.keychain = io.keychain;
  if (isDebug(env)) runtime.debug = (line) => stderr.write(`[debug] ${forTerminal(line)}\n`);
  return runtime;
}

export function httpClient(runtime: Runtime): HttpClient {
  return new HttpClient({
    clientName: 'latchkey',
    clientVersion: runtime.version,
    env: runtime.env,
    signal: runtime.signal,
    clock: runtime.clock,
    debug: runtime.debug,
  });
}

/** The store for writing: `--storage` / LATCHKEY_STORAGE decide where new secrets go. */
export function credentialStore(runtime: Runtime, storageFlag?: string): CredentialStore {
  return new CredentialStore({
    configDir: resolveConfigDir(runtime.env),
    preference: resolveStoragePreference(storageFlag, runtime.env),
    onLockWait: lockWaitNotice(runtime),
    ...(runtime.keychain && { keychain: runtime.keychain }),
  });
}

/** The one line a write prints when another live latchkey process holds the storage lock for 1 s. */
export function lockWaitNotice(runtime: Runtime): (holder: LockHolderInfo) => void {
  return (holder) =>
    runtime.warn(
      `Waiting for another latchkey process${holder.pid !== undefined ? ` (pid ${holder.pid})` : ''} that is writing credentials…`,
    );
}
