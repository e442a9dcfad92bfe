export { createFakeClock, type FakeClock } from '@latchkey/conformance/tools';
export {
  startNanoGptEmulator,
  type Fault,
  type IssuedKey,
  type NanoGptEmulator,
  type NanoGptEmulatorEvent,
  type NanoGptEmulatorOptions,
  type NanoGptRoute,
  type RecordedRequest,
} from './nanogpt/emulator.js';
export {
  NANOTERM_PLAN_LIMITS,
  nanoTermErrorBody,
  startNanoTermEmulator,
  type NanoTermEmulator,
  type NanoTermEmulatorOptions,
  type NanoTermErrorBody,
  type NanoTermFault,
  type NanoTermKeyInfo,
  type NanoTermKeySpec,
  type NanoTermPermission,
  type NanoTermPlan,
  type NanoTermRequest,
  type NanoTermRoute,
} from './nanoterm/emulator.js';
export {
  assertNoSecretLeaks,
  createCliSession,
  defaultCliBin,
  type CliRun,
  type CliSession,
  type CliSessionOptions,
  type RunOptions,
  type SecretLeakOptions,
} from '@latchkey/conformance/tools';
export { latchkeyRejection } from './rejection.js';
export {
  startNanoctlEmulator,
  type NanoctlEmulator,
  type NanoctlEmulatorOptions,
  type NanoctlFault,
  type NanoctlRequest,
  type NanoctlRoute,
  type NanoctlTokenSpec,
} from './nanoctl/emulator.js';
export {
  ACME_DEVICE_GRANT,
  startAcmeEmulator,
  type AcmeEmulator,
  type AcmeEmulatorOptions,
  type AcmeIssuedToken,
  type AcmeRequest,
  type AcmeRoute,
  type AcmeTokenSpec,
  type AcmeUser,
} from '@latchkey/conformance/tools';
export { lockDefaultKeyring } from './secret-service.js';
export {
  answerStreamFault,
  gzipBomb,
  startEmulatorServer,
  startFaultProxy,
  type FaultProxy,
  type ProxyFault,
  type ProxyRequest,
  type StreamFault,
} from '@latchkey/conformance/tools';
