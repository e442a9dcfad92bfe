export * from './client.js';
export * from './retry-after.js';
export * from './url.js';
export * from './proxy.js';
export * from './envelope.js';
export * from './response.js';
