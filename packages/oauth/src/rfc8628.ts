import type { Clock } from '@latchkey/clock';
import { ExitCode, LatchkeyError, registerSecret } from '@latchkey/errors';
import {
  answerFailure,
  bodyField,
  serverMessage,
  standardRetry,
  unexpectedResponse,
  type HttpClient,
  type HttpResponse,
} from '@latchkey/http';
import {
  deviceAccessDenied,
  deviceCodeExpired,
  runDeviceFlow,
  type DeviceAuthorization,
  type PollStep,
  type Verification,
} from '@latchkey/polling';
import { clientRequest } from './client-auth.js';
import { oauthError } from './token-response.js';
import { checkVerificationUris, deviceLogin, type DeviceLoginContext } from './device-login.js';

/** Where an RFC 8628 server lives and how it wants to be spoken to. */
export interface Rfc8628Endpoints {
  /** The device authorization endpoint (RFC 8628 section 3.1). */
  deviceAuthorizationUrl: URL;
  /** The token endpoint (section 3.4). */
  tokenUrl: URL;
  clientId: string;
  /** A confidential client's secret: sent with HTTP Basic instead of `client_id` in the body. */
  clientSecret?: string;
  scope?: string;
  /** Request bodies: 'form' is the standard; some servers (better-auth 1.6) accept only 'json'. */
  encoding: 'json' | 'form';
  /** What to tell the user when the server does not know the client id. */
  invalidClientAction?: string;
  /** What to tell the user when the server refuses the scope sent (or wants one): how to give `--scope`. */
  invalidScopeAction?: string;
  /** What to tell the user when the code expired or was denied (e.g. the login command to run again). */
  loginAgain?: string;
}

/** A successful token response (RFC 6749 section 5.1). */
export interface DeviceTokenResponse {
  access_token: string;
  token_type?: string;
  /** Seconds the access token lives. */
  expires_in?: number;
  refresh_token?: string;
  /** OpenID Connect: who signed in (read with `idTokenClaims`). */
  id_token?: string;
  scope?: string;
}

/** The RFC 8628 grant type sent to the token endpoint. */
export const deviceCodeGrantType = 'urn:ietf:params:oauth:grant-type:device_code';

function host(response: HttpResponse): string {
  return new URL(response.url).host;
}

/**
 * An error answer that ends the flow, in the server's words. `invalid_client` and `unauthorized_client`
 * (an unknown client id: some servers answer 401, others 403) and `invalid_scope` (the scope sent, or none,
 * is not what the server wants) are exit 2, with the caller's action to fix the definition.
 */
function stopWith(
  response: HttpResponse,
  endpoints: Rfc8628Endpoints,
  exitCode: ExitCode = ExitCode.Failure,
): LatchkeyError {
  // Whatever the content type: some servers label JSON text/plain, or answer form-encoded.
  const error = oauthError(response);
  const words = serverMessage(response) ?? error ?? `HTTP ${response.status}`;
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return new LatchkeyError({
      code: 'INVALID_CLIENT',
      message: `${host(response)} does not accept the client id "${endpoints.clientId}": ${words}.`,
      action: endpoints.invalidClientAction ?? 'Pass a client id the server allows with --client-id.',
      exitCode: ExitCode.Usage,
      status: response.status,
    });
  }
  if (error === 'invalid_scope') {
    return new LatchkeyError({
      code: 'OAUTH_INVALID_SCOPE',
      message: `${host(response)} refused the scope ${endpoints.scope !== undefined ? JSON.stringify(endpoints.scope) : '(none was sent)'}: ${words}.`,
      action:
        endpoints.invalidScopeAction ??
        'Ask for the scopes the server expects (--scope, once for each; e.g. --scope openid).',
      exitCode: ExitCode.Usage,
      status: response.status,
    });
  }
  return new LatchkeyError({
    code: error
      ? `OAUTH_${error
          .toUpperCase()
          .replace(/[^A-Z0-9_]/g, '_')
          .slice(0, 40)}`
      : (bodyField<string>(response.body, 'code') ?? 'DEVICE_FLOW_ERROR'),
    message: `${host(response)} refused the sign-in: ${words}.`,
    action: endpoints.loginAgain ?? 'Run the login command again.',
    exitCode,
    status: response.status,
  });
}

/** The request body in the server's encoding, with the client's authentication (see `clientRequest`). */
function encode(endpoints: Rfc8628Endpoints, fields: Record<string, string>) {
  return clientRequest(
    {
      clientId: endpoints.clientId,
      encoding: endpoints.encoding,
      ...(endpoints.clientSecret !== undefined && { clientSecret: endpoints.clientSecret }),
    },
    fields,
  );
}

/**
 * Reads a device authorization answer (RFC 8628 section 3.2; some providers' own start endpoints have the same
 * shape). Anything missing a required field is an "unexpected response"; the device code is registered as
 * a secret so it is redacted everywhere. `expires_in` and `interval` are passed on as sent (numbers only):
 * the device-flow engine clamps them and supplies the defaults.
 */
export function parseDeviceAuthorization(response: HttpResponse): DeviceAuthorization {
  const body = response.body;
  const deviceCode = bodyField<string>(body, 'device_code');
  const userCode = bodyField<string>(body, 'user_code');
  const verificationUri =
    bodyField<string>(body, 'verification_uri') ?? bodyField<string>(body, 'verification_url');
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof verificationUri !== 'string') {
    throw unexpectedResponse({ ...response, isJson: true });
  }
  registerSecret(deviceCode);
  const authorization: DeviceAuthorization = { deviceCode, userCode, verificationUri };
  const expiresIn = bodyField<unknown>(body, 'expires_in');
  if (typeof expiresIn === 'number') authorization.expiresIn = expiresIn;
  const complete = bodyField<string>(body, 'verification_uri_complete');
  if (typeof complete === 'string') authorization.verificationUriComplete = complete;
  const interval = bodyField<number>(body, 'interval');
  if (typeof interval === 'number') authorization.interval = interval;
  return authorization;
}

/** Section 3.1/3.2: asks for a device code and a user code. */
export async function requestDeviceAuthorization(
  http: HttpClient,
  endpoints: Rfc8628Endpoints,
  now: () => number,
): Promise<DeviceAuthorization> {
  const fields: Record<string, string> = {};
  if (endpoints.scope !== undefined) fields.scope = endpoints.scope;
  const response = await http.send({
    url: endpoints.deviceAuthorizationUrl,
    ...encode(endpoints, fields),
    retry: standardRetry,
  });
  if (response.status !== 200) {
    // An OAuth error is the server's answer whatever the content type; 429 and 5xx are the shared failures.
    const shared =
      response.status === 429 || response.status >= 500 || oauthError(response) === undefined
        ? answerFailure(response, now())
        : undefined;
    throw shared ?? stopWith(response, endpoints);
  }
  return parseDeviceAuthorization(response);
}

/** Section 3.5: what one token-endpoint answer means for the poll loop. */
export function deviceTokenStep(
  response: HttpResponse,
  endpoints: Rfc8628Endpoints,
  now: number,
): PollStep<DeviceTokenResponse> {
  if (response.status === 200 && response.isJson) {
    const accessToken = bodyField<string>(response.body, 'access_token');
    if (typeof accessToken !== 'string' || accessToken === '')
      throw unexpectedResponse({ ...response, isJson: true });
    registerSecret(accessToken);
    for (const field of ['refresh_token', 'id_token']) {
      const other = bodyField<unknown>(response.body, field);
      if (typeof other === 'string' && other !== '') registerSecret(other);
    }
    return { status: 'done', value: response.body as DeviceTokenResponse };
  }
  // Whatever the status or content type: some servers label JSON text/plain, or answer form-encoded.
  const error = oauthError(response);
  if (error === 'authorization_pending') return { status: 'pending' };
  if (error === 'slow_down') return { status: 'slow_down' };
  if (error === 'access_denied') throw deviceAccessDenied(endpoints.loginAgain);
  if (error === 'expired_token') throw deviceCodeExpired(endpoints.loginAgain);
  const transient = answerFailure(response, now);
  if (transient) throw transient;
  // invalid_grant, invalid_client, a validation error without an `error` field...: stop, in the server's words.
  throw stopWith(response, endpoints, error === 'invalid_grant' ? ExitCode.Auth : ExitCode.Failure);
}

/** What `deviceCodeLogin` needs when it is not given the whole provider context. */
export interface Rfc8628LoginOptions {
  http: HttpClient;
  clock: Clock;
  signal: AbortSignal;
  onVerification: (verification: Verification) => void | Promise<void>;
  /** Called once per run of transient poll failures (see `runDeviceFlow`). */
  onTrouble?: (error: LatchkeyError) => void;
}

/**
 * A complete RFC 8628 device login on the shared engine: device code, verification addresses checked
 * (https, or http for loopback only), user code shown, polling at the server's interval (clamped to
 * [1 s, 60 s]; +5 s per `slow_down`, kept), back-off on transient failures, which are shown once per run
 * and end the login after 5 in a row or 60 s, stop at `expires_in` (clamped to [30 s, 30 min]; the user
 * is shown the server's own number when it is shorter).
 * Pass the provider context: its `ui` shows the code and the "still trying" line.
 */
export async function deviceCodeLogin(
  endpoints: Rfc8628Endpoints,
  options: DeviceLoginContext | Rfc8628LoginOptions,
): Promise<DeviceTokenResponse> {
  const poller = options.http.with({ retry: { transientDelaysMs: [] } });
  const start = () => requestDeviceAuthorization(options.http, endpoints, () => options.clock.now());
  const poll = async (deviceCode: string) => {
    const response = await poller.send({
      url: endpoints.tokenUrl,
      ...encode(endpoints, {
        grant_type: deviceCodeGrantType,
        device_code: deviceCode,
      }),
    });
    return deviceTokenStep(response, endpoints, options.clock.now());
  };
  if ('ui' in options) return deviceLogin(options, { start, poll, expiredAction: endpoints.loginAgain });
  const host = endpoints.deviceAuthorizationUrl.host;
  return runDeviceFlow({
    start: async () => {
      const authorization = await start();
      checkVerificationUris(authorization, host);
      return authorization;
    },
    poll,
    onVerification: options.onVerification,
    onTrouble: options.onTrouble,
    clock: options.clock,
    signal: options.signal,
    expiredAction: endpoints.loginAgain,
  });
}
