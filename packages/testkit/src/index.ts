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
export { tasksAtOnce, timeBound, timeScale } from '@latchkey/conformance/tools';
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
export {
  lockDefaultKeyring,
  startPrivateSecretService,
  type PrivateSecretService,
} from './secret-service.js';
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
export {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_DEFAULT_ACCOUNT,
  OIDC_PUBLIC_CLIENT_ID,
} from './oidc/constants.js';
export type {
  OidcAccount,
  OidcClientSpec,
  OidcEndpoint,
  OidcRecordedRequest,
  OidcServer,
  OidcServerOptions,
} from './oidc/server.js';

/**
 * Starts panva's oidc-provider on 127.0.0.1 (see `./oidc/server.ts`). Loaded on first use, so users of this
 * entry that never start one do not load oidc-provider; `@latchkey/testkit/oidc` is the direct entry.
 */
export async function startOidcServer(
  options?: import('./oidc/server.js').OidcServerOptions,
): Promise<import('./oidc/server.js').OidcServer> {
  const { startOidcServer: start } = await import('./oidc/server.js');
  return start(options);
}
