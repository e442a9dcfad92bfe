export * from './clock.js';
export * from './poll.js';
export * from './device-flow.js';
