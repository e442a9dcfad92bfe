export { nanoterm, isNanoTermKey } from './provider.js';
