import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { noRetry, serverMessage, type HttpClient, type HttpResponse } from '@latchkey/http';
import { clientRequest, type OAuthClient } from './client-auth.js';
import { oauthError, parseTokenResponse, tokenEndpointError, type TokenSet } from './token-response.js';

/** Where and how to refresh: the token endpoint and the client latchkey is there. */
export interface RefreshRequest {
  tokenUrl: URL;
  client: OAuthClient;
  refreshToken: string;
  /** The command that signs in again, for the "sign in again" action of a rejected refresh token. */
  signInAgain: string;
}

/**
 * Refreshes an access token (RFC 6749 section 6): one POST of `grant_type=refresh_token`, not retried (a
 * refresh token may be single-use: a retry after a lost answer could burn the new one). The new token set
 * keeps the old refresh token when the server did not rotate it. A refusal is SESSION_EXPIRED, exit 4, "sign
 * in again" (see `refreshRefused`).
 */
export async function refreshAccessToken(
  http: HttpClient,
  request: RefreshRequest,
  now: () => number,
): Promise<TokenSet> {
  // The token's lifetime counts from when it was asked for: a late answer must not make it look longer-lived.
  const sentAt = now();
  const response = await http.send({
    url: request.tokenUrl,
    ...clientRequest(request.client, {
      grant_type: 'refresh_token',
      refresh_token: request.refreshToken,
    }),
    retry: noRetry,
  });
  if (response.status !== 200) {
    throw (
      refreshRefused(response, request.signInAgain) ??
      tokenEndpointError(response, now(), 'refresh token', request.signInAgain)
    );
  }
  const tokens = parseTokenResponse(response, sentAt);
  return { ...tokens, refreshToken: tokens.refreshToken ?? request.refreshToken };
}

/**
 * A refresh answered HTTP 400 or 401 means the refresh token is no longer good (revoked, expired, already
 * used), whatever the body says: `invalid_grant` (RFC 6749 section 5.2), another error, or nothing at all
 * (some servers answer an empty 400). SESSION_EXPIRED, exit 4, "sign in again". Except `invalid_client` and
 * `unauthorized_client`: the client itself is refused, which a new sign-in does not change (exit 2, see
 * `tokenEndpointError`). Undefined for any other answer.
 */
export function refreshRefused(response: HttpResponse, signInAgain: string): LatchkeyError | undefined {
  if (response.status !== 400 && response.status !== 401) return undefined;
  const error = oauthError(response);
  if (error === 'invalid_client' || error === 'unauthorized_client') return undefined;
  const words = serverMessage(response) ?? error ?? `HTTP ${response.status} without a reason`;
  return new LatchkeyError({
    code: 'SESSION_EXPIRED',
    message: `${new URL(response.url).host} no longer accepts the refresh token: ${words}.`,
    action: `Sign in again: ${signInAgain}`,
    exitCode: ExitCode.Auth,
    status: response.status,
  });
}
