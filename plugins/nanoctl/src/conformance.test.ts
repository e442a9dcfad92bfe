import { fileURLToPath } from 'node:url';
import { startNanoctlEmulator } from '@latchkey/testkit';
import { describeProviderConformance } from '@latchkey/conformance';
import { afterAll } from 'vitest';
import { nanoctl } from './provider.js';

const emulator = await startNanoctlEmulator();
afterAll(() => emulator.close());
const { token } = emulator.addToken({ username: 'conformance-user' });

describeProviderConformance({
  provider: nanoctl,
  packageJson: fileURLToPath(new URL('../package.json', import.meta.url)),
  baseUrl: emulator.url,
  validToken: () => token,
  rejectedToken: 'nsv_NeverIssuedByThisServer0123456789',
  malformedTokens: ['', 'short', 'has a space', 'nsv_0123 4567'],
  cli: { bundled: true },
});
