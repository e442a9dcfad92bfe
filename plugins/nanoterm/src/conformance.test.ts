import { fileURLToPath } from 'node:url';
import { startNanoTermEmulator } from '@latchkey/testkit';
import { describeProviderConformance } from '@latchkey/conformance';
import { afterAll } from 'vitest';
import { nanoterm } from './provider.js';

const emulator = await startNanoTermEmulator();
afterAll(() => emulator.close());
const { key } = emulator.createKey({ name: 'conformance', permission: 'full' });

describeProviderConformance({
  provider: nanoterm,
  packageJson: fileURLToPath(new URL('../package.json', import.meta.url)),
  baseUrl: emulator.url,
  validToken: () => key,
  rejectedToken: 'nt_live_NeverIssuedByThisServer0123456',
  malformedTokens: ['', 'nt_', 'nt_short', 'sk-nano-0123456789', 'nt_live_has spaces 0123456789'],
  cli: { bundled: true },
});
