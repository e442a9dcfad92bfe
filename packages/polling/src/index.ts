// Time lives in @latchkey/clock; re-exported so existing importers of the engine keep one import.
export { maxTimerMs, systemClock, type Clock } from '@latchkey/clock';
export * from './poll.js';
export * from './device-flow.js';
