import { isLatchkeyError, type LatchkeyError } from '@latchkey/errors';
import type { Clock } from '@latchkey/clock';

/** What one attempt of a poll loop found. */
export type PollStep<T> =
  | { status: 'pending' }
  /** The server asked for slower polling (RFC 8628 `slow_down`): the interval grows for every later attempt. */
  | { status: 'slow_down' }
  | { status: 'done'; value: T };

/** When a run of transient failures ends the loop: whichever limit is reached first. */
export interface GiveUpRule {
  /** Failed attempts in a row; default 5. */
  failures: number;
  /** Time from the first failure of the run to the latest one; default 60 s. */
  ms: number;
}

/** The default: 5 failures in a row, or 60 s of failures. */
export const defaultGiveUp: GiveUpRule = { failures: 5, ms: 60_000 };

/** How `pollUntil` polls: the attempt, the interval, the deadline and the clock. */
export interface PollOptions<T> {
  /** One attempt. Throw a `LatchkeyError` to stop; a retryable one is retried with back-off instead. */
  attempt: () => Promise<PollStep<T>>;
  /** Wait before the first attempt and between attempts, measured from the previous answer. */
  intervalMs: number;
  /** Absolute time (clock ms) after which no attempt is made: `onDeadline()` is thrown instead. */
  deadline: number;
  onDeadline: () => LatchkeyError;
  clock: Clock;
  signal?: AbortSignal;
  /** Added to the interval on every `slow_down`; default 5 s (RFC 8628). */
  slowDownMs?: number;
  /** Longest wait between attempts after transport failures (and longest `Retry-After` honoured); default 60 s. */
  maxBackoffMs?: number;
  /** When a run of transient failures ends the loop with the last of them; default `defaultGiveUp`. */
  giveUp?: GiveUpRule;
  /**
   * Called once per run of transient failures, at its first failure (the loop goes on): how a host shows
   * "the server is not answering; still trying". Not called again until an attempt has succeeded.
   */
  onTrouble?: (error: LatchkeyError) => void;
  /** Called before each wait: how long it will be and why. */
  onWait?: (wait: {
    ms: number;
    reason: 'interval' | 'slow_down' | 'backoff' | 'retry_after';
    attempt: number;
  }) => void;
}

/** Each back-off wait is this many times the previous one, starting at the interval. */
const backoffFactor = 1.5;

/**
 * A bounded poll loop: waits, attempts, and repeats until an attempt is done, throws, the deadline passes,
 * or the server keeps failing. Transient failures (retryable `LatchkeyError`s) back off (x1.5 from the
 * interval) or wait their `retryAfterMs`, are reported once per run through `onTrouble`, and end the loop
 * with the last failure after `giveUp` (5 in a row or 60 s). A deadline reached during such a run also
 * ends with the last failure: only the server's own answers make it an expiry.
 */
export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const { clock, signal } = options;
  const slowDownMs = options.slowDownMs ?? 5000;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const giveUp = options.giveUp ?? defaultGiveUp;
  let intervalMs = options.intervalMs;
  let backoffMs = 0;
  let wait = intervalMs;
  let reason: 'interval' | 'slow_down' | 'backoff' | 'retry_after' = 'interval';
  let failures = 0;
  let firstFailureAt = 0;
  let lastFailure: LatchkeyError | undefined;
  for (let attempt = 1; ; attempt += 1) {
    const remaining = options.deadline - clock.now();
    if (wait >= remaining) {
      if (remaining > 0) await clock.sleep(remaining, signal);
      throw lastFailure ?? options.onDeadline();
    }
    options.onWait?.({ ms: wait, reason, attempt });
    await clock.sleep(wait, signal);
    let step: PollStep<T>;
    try {
      step = await options.attempt();
    } catch (error) {
      if (!isLatchkeyError(error) || !error.retryable) throw error;
      failures += 1;
      if (failures === 1) firstFailureAt = clock.now();
      lastFailure = error;
      if (failures >= giveUp.failures || clock.now() - firstFailureAt >= giveUp.ms) throw error;
      if (failures === 1) options.onTrouble?.(error);
      backoffMs = Math.min(maxBackoffMs, backoffMs === 0 ? intervalMs : backoffMs * backoffFactor);
      if (error.retryAfterMs !== undefined && Number.isFinite(error.retryAfterMs)) {
        wait = Math.min(maxBackoffMs, Math.max(intervalMs, error.retryAfterMs));
        reason = 'retry_after';
      } else {
        wait = backoffMs;
        reason = 'backoff';
      }
      continue;
    }
    backoffMs = 0;
    failures = 0;
    lastFailure = undefined;
    if (step.status === 'done') return step.value;
    if (step.status === 'slow_down') {
      intervalMs += slowDownMs;
      reason = 'slow_down';
    } else {
      reason = 'interval';
    }
    wait = intervalMs;
  }
}
