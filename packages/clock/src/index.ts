/**
 * @latchkey/clock — time, injectable: the `Clock` interface every waiting package takes (the poll loop, the
 * HTTP client's retries, the storage lock) and `systemClock`, the real one.
 */
export * from './clock.js';
