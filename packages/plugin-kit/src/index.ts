/**
 * @latchkey/plugin-kit — the one dependency a latchkey provider plugin needs: the provider contract,
 * `defineProvider()`, the hook types, and re-exports of the shared error type, HTTP client and
 * device-flow engine.
 */
export * from './manifest.js';
export * from './provider.js';
export * from './discovery.js';
export * from './rfc8628.js';
export * from './device-login.js';
export * from './token-input.js';
export * from './identity.js';
export {
  ExitCode,
  LatchkeyError,
  isLatchkeyError,
  usageError,
  mask,
  registerSecret,
  type ErrorEnvelope,
  type LatchkeyErrorOptions,
} from '@latchkey/errors';
export {
  HttpClient,
  answerFailure,
  bodyField,
  serverMessage,
  envelopeError,
  envelopeRetry,
  errorEnvelope,
  joinUrl,
  noRetry,
  parseBaseUrl,
  parseRetryAfter,
  rateLimitedError,
  standardRetry,
  unexpectedResponse,
  type HttpRequest,
  type HttpResponse,
  type RetryPolicy,
} from '@latchkey/http';
export {
  deviceAccessDenied,
  deviceCodeExpired,
  pollUntil,
  runDeviceFlow,
  systemClock,
  type Clock,
  type DeviceAuthorization,
  type GiveUpRule,
  type PollStep,
  type Verification,
} from '@latchkey/polling';
