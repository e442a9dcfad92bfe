export { nanoctl } from './provider.js';
