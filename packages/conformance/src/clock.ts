import { cancelledError } from '@latchkey/errors';
import type { Clock } from '@latchkey/plugin-kit';

/** A `Clock` whose time only moves when told to: sleeps return at once, so a 10-minute expiry takes milliseconds. */
export interface FakeClock extends Clock {
  /** Moves `now` forward by `ms` without sleeping. */
  advance(ms: number): void;
  /** Every `sleep(ms)` requested, in order: what a test asserts polling intervals against. */
  readonly sleeps: number[];
}

/**
 * Creates a fake clock starting at `startMs` (default 1_700_000_000_000, a fixed instant so logs are stable).
 * `sleep(ms)` records `ms`, moves time forward by `ms` at once and resolves on a later macrotask
 * (setImmediate), so real I/O such as a request to a local emulator can complete in between.
 */
export function createFakeClock(startMs = 1_700_000_000_000): FakeClock {
  let now = startMs;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
      now += ms;
    },
    sleep(ms: number, signal?: AbortSignal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(cancelledError());
        const wait = Math.max(0, ms);
        sleeps.push(ms);
        now += wait;
        const onAbort = () => {
          clearImmediate(timer);
          reject(cancelledError());
        };
        const timer = setImmediate(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
