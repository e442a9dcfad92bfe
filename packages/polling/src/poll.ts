import { isLatchkeyError, type LatchkeyError } from '@latchkey/errors';
import type { Clock } from './clock.js';

/** What one attempt of a poll loop found. */
export type PollStep<T> =
  | { status: 'pending' }
  /** The server asked for slower polling (RFC 8628 `slow_down`): the interval grows for every later attempt. */
  | { status: 'slow_down' }
  | { status: 'done'; value: T };

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
  /** Longest wait between attempts after transport failures; default 60 s. */
  maxBackoffMs?: number;
  /** Called before each wait: how long it will be and why. */
  onWait?: (wait: {
    ms: number;
    reason: 'interval' | 'slow_down' | 'backoff' | 'retry_after';
    attempt: number;
  }) => void;
}

/**
 * A bounded poll loop: waits, attempts, and repeats until an attempt is done, throws, or the deadline
 * passes. Transient failures (retryable `LatchkeyError`s) back off by doubling, or wait their
 * `retryAfterMs`, and never end the loop early; only the deadline does.
 */
export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const { clock, signal } = options;
  const slowDownMs = options.slowDownMs ?? 5000;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  let intervalMs = options.intervalMs;
  let backoffMs = 0;
  let wait = intervalMs;
  let reason: 'interval' | 'slow_down' | 'backoff' | 'retry_after' = 'interval';
  for (let attempt = 1; ; attempt += 1) {
    const remaining = options.deadline - clock.now();
    if (wait >= remaining) {
      if (remaining > 0) await clock.sleep(remaining, signal);
      throw options.onDeadline();
    }
    options.onWait?.({ ms: wait, reason, attempt });
    await clock.sleep(wait, signal);
    let step: PollStep<T>;
    try {
      step = await options.attempt();
    } catch (error) {
      if (!isLatchkeyError(error) || !error.retryable) throw error;
      if (error.retryAfterMs !== undefined) {
        wait = Math.max(intervalMs, error.retryAfterMs);
        reason = 'retry_after';
      } else {
        backoffMs = Math.min(maxBackoffMs, backoffMs === 0 ? intervalMs * 2 : backoffMs * 2);
        wait = backoffMs;
        reason = 'backoff';
      }
      continue;
    }
    backoffMs = 0;
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
