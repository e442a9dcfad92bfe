/**
 * `@latchkey/conformance/tools`: what a provider plugin's tests use besides the suite, with no test
 * framework in it: a strict RFC 8628 device-authorization server (`startAcmeEmulator`, the API of the Acme
 * example plugin), the building blocks to write your own (`startEmulatorServer`, a fault proxy, stream
 * faults), a fake clock, a runner for the built `latchkey` binary, and wall-clock bounds that stretch on a
 * busy machine (`timeBound`).
 */
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
} from './rfc8628-server.js';
export * from './http-emulator.js';
export { createFakeClock, type FakeClock } from './clock.js';
export {
  assertNoSecretLeaks,
  createCliSession,
  defaultCliBin,
  type CliRun,
  type CliSession,
  type CliSessionOptions,
  type RunOptions,
  type SecretLeakOptions,
} from './cli-runner.js';
export { tasksAtOnce, timeBound, timeScale } from './time-bound.js';
