/**
 * @latchkey/plugin-kit — the one dependency a latchkey provider plugin needs: the provider contract,
 * `defineProvider()`, the hook types, and re-exports of the shared error type, HTTP client, clock,
 * device-flow engine and OAuth client (RFC 8628 device login, refresh, revocation, discovery).
 */
export * from './manifest.js';
export * from './provider.js';
export * from './discovery.js';
export * from './token-input.js';
export * from './identity.js';
export * from './time.js';
export * from './browser-login.js';
export {
  ExitCode,
  LatchkeyError,
  isLatchkeyError,
  usageError,
  accountLabel,
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
export { systemClock, type Clock } from '@latchkey/clock';
export {
  deviceAccessDenied,
  deviceCodeExpired,
  pollUntil,
  runDeviceFlow,
  type DeviceAuthorization,
  type GiveUpRule,
  type PollStep,
  type Verification,
} from '@latchkey/polling';
export {
  checkVerificationUris,
  deviceCodeGrantType,
  deviceCodeLogin,
  deviceLogin,
  deviceTokenStep,
  describeTrouble,
  parseDeviceAuthorization,
  requestDeviceAuthorization,
  stillTryingMessage,
  type DeviceLoginContext,
  type DeviceLoginFlow,
  type DeviceTokenResponse,
  type Rfc8628Endpoints,
  type Rfc8628LoginOptions,
  checkEndpoint,
  clientRequest,
  discoverServer,
  fetchUserinfo,
  identityFromClaims,
  idTokenClaims,
  oauthError,
  parseTokenResponse,
  refreshAccessToken,
  revokeToken,
  revokeTokens,
  tokenSetFromBody,
  type ClaimsIdentity,
  type OAuthClient,
  type RefreshRequest,
  type RevocationEndpoint,
  type ServerMetadata,
  type TokenSet,
  authorizationCodeLogin,
  discoverResource,
  registerPublicClient,
  type AuthorizationCodeRequest,
  type AuthorizationPrompt,
  type AuthorizationServer,
  type CodeGrant,
  type ProtectedResource,
} from '@latchkey/oauth';
