/**
 * The one renderer for results and errors, shared by the oclif commands and the `auth token` fast path.
 * It must stay cheap to import: no oclif (the fast path exists to skip it), only the output boundary.
 *
 * `--json` prints one envelope on stdout (`latchkey help json`):
 *   success `{"status": 0, "result": ..., "warnings": [...]}`
 *   failure `{"status": <exit code>, "error": {code, message, action, retryable, docs}, "warnings": [...]}`
 */
import type { ErrorEnvelope, LatchkeyError } from '@latchkey/errors';
import { forTerminal, isDebug, jsonForTerminal } from './runtime/environment.js';
import { findGuide } from './help/guides.js';

export interface SuccessEnvelope<T = unknown> {
  /** The exit code (`auth status` can succeed with 1 or 4: see docs/exit-codes.md). */
  status: number;
  result: T;
  warnings: string[];
}

export interface FailureEnvelope {
  status: number;
  error: ErrorEnvelope;
  warnings: string[];
}

export function successEnvelope<T>(
  result: T,
  status: number,
  warnings: readonly string[],
): SuccessEnvelope<T> {
  return { status, result, warnings: [...warnings] };
}

export function failureEnvelope(error: LatchkeyError, warnings: readonly string[]): FailureEnvelope {
  return { status: error.exitCode, error: error.toEnvelope(), warnings: [...warnings] };
}

/** An envelope as stdout text: every string sanitized and redacted (jsonForTerminal), one trailing newline. */
export function renderJson(envelope: SuccessEnvelope | FailureEnvelope): string {
  return `${jsonForTerminal(envelope)}\n`;
}

/**
 * An error for people, on stderr: the message (in `red` on a terminal), the action and the docs each on
 * their own line, whatever newlines a server put in them; or everything on one plain line (`compact`, for
 * `auth token`, whose stderr scripts read).
 */
export function renderErrorText(
  error: LatchkeyError,
  compact: boolean,
  red: (text: string) => string = (text) => text,
): string {
  if (compact) {
    return `${forTerminal(`latchkey: ${error.message}${error.action ? ` ${error.action}` : ''}`, true)}\n`;
  }
  const lines = [red(`latchkey: ${forTerminal(error.message, true)}`)];
  if (error.action) lines.push(`  ${forTerminal(error.action, true)}`);
  // latchkey's own errors name a guide (`latchkey help <topic>`); a server's may give an address.
  if (error.docs && findGuide(error.docs)) lines.push(`  See \`latchkey help ${error.docs}\`.`);
  else if (error.docs) lines.push(`  Docs: ${forTerminal(error.docs, true)}`);
  return `${lines.join('\n')}\n`;
}

export interface ErrorReport {
  /** `--json`: the failure envelope on stdout instead of text on stderr. */
  json: boolean;
  compact: boolean;
  warnings: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: { write(text: string): void };
  stderr: { write(text: string): void };
  /** Colours the error line (red) on a terminal; the fast path leaves it out and stays plain. */
  red?: (text: string) => string;
}

/** Prints `error` the one way latchkey prints errors and returns the exit code to leave with. */
export function reportError(error: LatchkeyError, report: ErrorReport): number {
  if (report.json) report.stdout.write(renderJson(failureEnvelope(error, report.warnings)));
  else report.stderr.write(renderErrorText(error, report.compact, report.red));
  // A bug's stack, only when asked for (LATCHKEY_DEBUG=1); expected failures never show one.
  if (isDebug(report.env) && error.code === 'INTERNAL_ERROR') {
    report.stderr.write(`${forTerminal(String((error.cause as Error | undefined)?.stack ?? ''))}\n`);
  }
  return error.exitCode;
}

/** `error` as text on stderr, plain, as a command without `--json` prints it (exec, the fast paths). */
export function reportText(error: LatchkeyError, io: Pick<ErrorReport, 'env' | 'stdout' | 'stderr'>): number {
  return reportError(error, { json: false, compact: false, warnings: [], ...io });
}
