export { kaneo, authUrl, isApiKey } from './provider.js';
