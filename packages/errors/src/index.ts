/**
 * latchkey's one error type. Every expected failure is a `LatchkeyError` carrying the envelope
 * `{code, message, action, retryable, docs}`, an exit code and an optional cause. Libraries throw it;
 * only the host renders it (human text on stderr, or the envelope with `--json`).
 */

/** Process exit codes, as documented in CLI.md. */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** Any other failure: network, server, storage. */
  Failure: 1,
  /** Usage error: bad flag, missing `--provider` without a terminal, invalid base URL. */
  Usage: 2,
  /** Not signed in, or the credential was rejected (401, invalid token, expired or denied code). */
  Auth: 4,
  /** Cancelled (Ctrl-C). */
  Cancelled: 130,
} as const;
/** One of the documented exit codes. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The machine-readable error envelope: `{code, message, action, retryable, docs}`. */
export interface ErrorEnvelope {
  code: string;
  message: string;
  action?: string;
  retryable: boolean;
  docs?: string;
}

/** What a `LatchkeyError` is made of: the envelope fields plus exit code, cause and HTTP details. */
export interface LatchkeyErrorOptions {
  code: string;
  message: string;
  /** What the user should do next, in one sentence. */
  action?: string;
  retryable?: boolean;
  docs?: string;
  exitCode?: ExitCode;
  cause?: unknown;
  /** When a retry is worth making, how long to wait first (from a `Retry-After` header). */
  retryAfterMs?: number;
  /** HTTP status that caused this error, when there was one. */
  status?: number;
}

/** The one error type every latchkey package and provider plugin throws for expected failures. */
export class LatchkeyError extends Error {
  readonly code: string;
  readonly action: string | undefined;
  readonly retryable: boolean;
  readonly docs: string | undefined;
  readonly exitCode: ExitCode;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(options: LatchkeyErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LatchkeyError';
    this.code = options.code;
    this.action = options.action;
    this.retryable = options.retryable ?? false;
    this.docs = options.docs;
    this.exitCode = options.exitCode ?? ExitCode.Failure;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }

  /** The same error with another next step (the host knows better: the variable, the server). */
  withAction(action: string): LatchkeyError {
    return new LatchkeyError({
      code: this.code,
      message: this.message,
      action,
      retryable: this.retryable,
      exitCode: this.exitCode,
      cause: this,
      ...(this.docs !== undefined && { docs: this.docs }),
      ...(this.retryAfterMs !== undefined && { retryAfterMs: this.retryAfterMs }),
      ...(this.status !== undefined && { status: this.status }),
    });
  }

  /** The envelope, for `--json` output. */
  toEnvelope(): ErrorEnvelope {
    const envelope: ErrorEnvelope = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.action !== undefined) envelope.action = this.action;
    if (this.docs !== undefined) envelope.docs = this.docs;
    return envelope;
  }
}

/** True for a `LatchkeyError`, also one created by another copy of this package (a user-installed plugin). */
export function isLatchkeyError(value: unknown): value is LatchkeyError {
  if (value instanceof LatchkeyError) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'LatchkeyError' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { exitCode?: unknown }).exitCode === 'number'
  );
}

/** A usage error (exit 2): a bad flag or argument; says what to type instead. */
export function usageError(message: string, action?: string): LatchkeyError {
  return new LatchkeyError({ code: 'USAGE', message, action, exitCode: ExitCode.Usage });
}

/** The user cancelled (Ctrl-C): exit 130. */
export function cancelledError(): LatchkeyError {
  return new LatchkeyError({ code: 'CANCELLED', message: 'Cancelled.', exitCode: ExitCode.Cancelled });
}

/** Wraps anything thrown into a `LatchkeyError`, keeping an existing one as it is. */
export function toLatchkeyError(error: unknown): LatchkeyError {
  if (isLatchkeyError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new LatchkeyError({
    code: 'INTERNAL_ERROR',
    message: `Unexpected error: ${message}`,
    action: 'This is a bug in latchkey: run again with LATCHKEY_DEBUG=1 and report it with that output.',
    cause: error,
  });
}

export {
  accountLabel,
  mask,
  redact,
  registerSecret,
  registerSecretPrefixes,
  forgetSecrets,
  knownSecretPatterns,
} from './redact.js';
export { sanitizeTerminalText, sanitizeLine, sanitizeJsonValue } from './terminal-text.js';
