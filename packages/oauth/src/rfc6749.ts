import { noRetry, type HttpClient } from '@latchkey/http';
import { clientRequest, type OAuthClient } from './client-auth.js';
import { parseTokenResponse, tokenEndpointError, type TokenSet } from './token-response.js';

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
 * keeps the old refresh token when the server did not rotate it. `invalid_grant` (revoked, expired, already
 * used) is SESSION_EXPIRED, exit 4, "sign in again".
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
    throw tokenEndpointError(response, now(), 'refresh token', request.signInAgain);
  }
  const tokens = parseTokenResponse(response, sentAt);
  return { ...tokens, refreshToken: tokens.refreshToken ?? request.refreshToken };
}
