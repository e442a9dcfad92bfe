import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describeProviderConformance } from '@latchkey/conformance';
import { startKaneoServer } from '@latchkey/testkit/kaneo';
import { afterAll } from 'vitest';
import { kaneo } from './provider.js';

// The real better-auth server Kaneo runs on, with a short poll interval so the device check takes ~2 s.
const server = await startKaneoServer({ interval: 1 });
afterAll(() => server.close());
const user = await server.signUp();
const apiKey = await server.createApiKey(user);

describeProviderConformance({
  provider: kaneo,
  packageJson: fileURLToPath(new URL('../package.json', import.meta.url)),
  baseUrl: server.url,
  validToken: () => apiKey,
  // As long as a real key (64 characters), but never issued.
  rejectedToken: randomBytes(48).toString('base64url'),
  malformedTokens: [
    '',
    'short-token',
    'has spaces in the middle of it',
    `${apiKey.slice(0, 20)} ${apiKey.slice(20)}`,
  ],
  deviceFlow: { approve: (userCode) => server.approve(userCode, user) },
  cli: { bundled: true },
});
