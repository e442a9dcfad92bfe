// The ports: what the host's flows need from the outside world, as interfaces. The adapters (io/) implement
// them and import them from here; runtime.ts, the composition root, builds the real runtime from the
// adapters. Nothing here imports an adapter.
import type { Config } from '@oclif/core';
import type { Clock } from '@latchkey/polling';
import type { SecretBackend } from '@latchkey/storage';
import type { Colours } from '../terminal/colour.js';

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
 * `io/browser.ts`). What may be opened, and how, is decided by `openBrowser()` in `terminal/browser.ts`.
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
