export { acme } from './provider.js';
