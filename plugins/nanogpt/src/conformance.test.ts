import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startNanoGptEmulator } from '@latchkey/testkit';
import { describeProviderConformance } from '@latchkey/conformance';
import { afterAll } from 'vitest';
import { nanogpt } from './provider.js';

const validKey = `sk-nano-${randomUUID()}`;
const emulator = await startNanoGptEmulator({ interval: 1, keys: [validKey] });
afterAll(() => emulator.close());

describeProviderConformance({
  provider: nanogpt,
  packageJson: fileURLToPath(new URL('../package.json', import.meta.url)),
  baseUrl: emulator.url,
  validToken: () => validKey,
  rejectedToken: `sk-nano-${randomUUID()}`,
  malformedTokens: ['', 'sk-nano-123', 'not a key', `sk-nano-${randomUUID()}x`, `sk-proj-${randomUUID()}`],
  deviceFlow: { approve: (userCode) => emulator.approve(userCode) },
  cli: { bundled: true },
});
