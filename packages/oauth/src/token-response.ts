import { ExitCode, LatchkeyError, registerSecret } from '@latchkey/errors';
import {
  answerFailure,
  bodyField,
  serverMessage,
  unexpectedResponse,
  type HttpResponse,
} from '@latchkey/http';

/** What a token endpoint granted (RFC 6749 section 5.1), with `expires_in` turned into a point in time. */
export interface TokenSet {
  accessToken: string;
  /** Absent when the server issued none (or, on refresh, kept the old one: see `refreshAccessToken`). */
  refreshToken?: string;
  /** Milliseconds since the epoch after which the access token no longer works; absent when not said. */
  expiresAt?: number;
  /** An OpenID Connect ID token, when the server sent one. */
  idToken?: string;
  scope?: string;
  tokenType?: string;
}

/** Longest lifetime taken from `expires_in`: a year; a bigger number (1e20, Infinity) is capped to it. */
const maxLifetimeSeconds = 366 * 24 * 3600;

/**
 * When a token with this `expires_in` (RFC 6749 section 5.1: seconds from the response) stops working:
 * 0 or less means it already has (`now`, so it is refreshed or reported expired at once), a lifetime over
 * a year is capped to a year, and absent, null, empty or not a number means unknown (undefined).
 */
export function expiryOf(expiresIn: unknown, now: number): number | undefined {
  if (typeof expiresIn !== 'number' && !(typeof expiresIn === 'string' && expiresIn.trim() !== '')) {
    return undefined;
  }
  const seconds = Number(expiresIn);
  if (Number.isNaN(seconds)) return undefined;
  if (seconds <= 0) return now;
  return now + Math.floor(Math.min(seconds, maxLifetimeSeconds) * 1000);
}

/**
 * Reads a successful token response: the access token (required), and the refresh token, ID token,
 * scope and `expires_in` when present (read by `expiryOf`). Every token is
 * registered as a secret, so it is redacted wherever it could appear. `now` is when the request was sent (the
 * lifetime counts from then, so a late answer cannot make the token look longer-lived).
 */
export function parseTokenResponse(response: HttpResponse, now: number): TokenSet {
  const tokens = response.isJson ? tokenSetFromBody(response.body, now) : undefined;
  if (tokens === undefined) throw unexpectedResponse({ ...response, isJson: true });
  return tokens;
}

/**
 * The token set in a parsed token-response body (what `deviceCodeLogin` returns, say); undefined without
 * an access token. The same reading and secret registration as `parseTokenResponse`.
 */
export function tokenSetFromBody(body: unknown, now: number): TokenSet | undefined {
  const accessToken = bodyField<unknown>(body, 'access_token');
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  registerSecret(accessToken);
  const tokens: TokenSet = { accessToken };
  const refresh = bodyField<unknown>(body, 'refresh_token');
  if (typeof refresh === 'string' && refresh !== '') {
    registerSecret(refresh);
    tokens.refreshToken = refresh;
  }
  const idToken = bodyField<unknown>(body, 'id_token');
  if (typeof idToken === 'string' && idToken !== '') {
    registerSecret(idToken);
    tokens.idToken = idToken;
  }
  const expiresAt = expiryOf(bodyField<unknown>(body, 'expires_in'), now);
  if (expiresAt !== undefined) tokens.expiresAt = expiresAt;
  const scope = bodyField<unknown>(body, 'scope');
  if (typeof scope === 'string') tokens.scope = scope;
  const type = bodyField<unknown>(body, 'token_type');
  if (typeof type === 'string') tokens.tokenType = type;
  return tokens;
}

/** The OAuth `error` code of an error answer (RFC 6749 section 5.2), whatever its status or content type. */
export function oauthError(response: HttpResponse): string | undefined {
  const fromJson = bodyField<unknown>(response.body, 'error');
  if (typeof fromJson === 'string') return fromJson;
  // Some servers answer errors as a form body, or JSON labelled text/plain that the client did not parse.
  const text = response.text.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      const error = bodyField<unknown>(parsed, 'error');
      if (typeof error === 'string') return error;
    } catch {
      // not JSON after all
    }
  }
  if (/^[\w.~%+-]+=[^&]*(&|$)/.test(text)) {
    const error = new URLSearchParams(text).get('error');
    if (error) return error;
  }
  return undefined;
}

/**
 * A token-endpoint error as a `LatchkeyError`: 429/5xx/HTML through the shared mapping, except that a body
 * carrying an OAuth `error` is the server's answer whatever its status; `invalid_grant` means the grant is
 * no longer valid (exit 4, `signInAgain` as the action); `invalid_client`/`unauthorized_client` exit 2.
 */
export function tokenEndpointError(
  response: HttpResponse,
  now: number,
  what: string,
  signInAgain: string,
): LatchkeyError {
  const error = oauthError(response);
  const host = new URL(response.url).host;
  const words = serverMessage(response) ?? (error ? error : `HTTP ${response.status}`);
  if (error === undefined) {
    return answerFailure(response, now) ?? unexpectedResponse(response);
  }
  if (error === 'invalid_grant') {
    return new LatchkeyError({
      code: 'SESSION_EXPIRED',
      message: `${host} no longer accepts the ${what}: ${words}.`,
      action: `Sign in again: ${signInAgain}`,
      exitCode: ExitCode.Auth,
      status: response.status,
    });
  }
  if (error === 'invalid_client' || error === 'unauthorized_client') {
    return new LatchkeyError({
      code: 'INVALID_CLIENT',
      message: `${host} does not accept this client: ${words}.`,
      action: 'Check the client id (and the client secret variable) of the provider definition.',
      exitCode: ExitCode.Usage,
      status: response.status,
    });
  }
  if (response.status === 429 || response.status >= 500) {
    return answerFailure(response, now) ?? unexpectedResponse(response);
  }
  return new LatchkeyError({
    code: `OAUTH_${error
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_')
      .slice(0, 40)}`,
    message: `${host} refused the ${what}: ${words}.`,
    action: signInAgain,
    exitCode: ExitCode.Failure,
    status: response.status,
  });
}
