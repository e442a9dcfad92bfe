export { nanogpt, isNanoGptKey, pollStep } from './provider.js';
