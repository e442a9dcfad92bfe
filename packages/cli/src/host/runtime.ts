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
  /** A masked answer: nothing is echoed. */
  password(message: string): Promise<string>;
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

/** The outside world a runtime is made from: the process (`io/process-io.ts`) or a test's fakes. */
export interface HostIo {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  stdinIsTty: boolean;
  stdout: OutputStream;
  stderr: OutputStream;
  prompter: Prompter;
  browser: BrowserLauncher;
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
  keychain?: SecretBackend;
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
    say: (line) => stderr.write(`${forTerminal(line)}\n`),
    warn: (message) => stderr.write(`${forTerminal(`! ${message}`)}\n`),
    out: (text) => stdout.write(forTerminal(text)),
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
