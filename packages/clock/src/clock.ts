import { setTimeout as delay } from 'node:timers/promises';
import { cancelledError } from '@latchkey/errors';

/** Time, injectable: the real clock in the CLI, a fake one in tests so a 10-minute expiry takes milliseconds. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with a cancelled `LatchkeyError` (exit 130) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay Node's timers accept; a longer one overflows to 1 ms with a TimeoutOverflowWarning. */
export const maxTimerMs = 2_147_483_647;

/** The wall clock. Any `ms` is safe: long waits are taken in steps a timer can hold, NaN waits nothing. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    let left = Number.isNaN(ms) ? 0 : Math.max(0, ms);
    if (signal?.aborted) throw cancelledError();
    while (left > 0) {
      const step = Math.min(left, maxTimerMs);
      try {
        await delay(step, undefined, signal ? { signal } : undefined);
      } catch (error) {
        if (signal?.aborted) throw cancelledError();
        throw error;
      }
      left -= step; // Infinity stays Infinity: waits until the signal aborts
    }
  },
};
