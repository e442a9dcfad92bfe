import { LatchkeyError } from '@latchkey/errors';
import { serverMessage, standardRetry, type HttpClient } from '@latchkey/http';
import { clientRequest, type OAuthClient } from './client-auth.js';
import { oauthError } from './token-response.js';

/** A revocation endpoint (RFC 7009) and the client latchkey is there. */
export interface RevocationEndpoint {
  revocationUrl: URL;
  client: OAuthClient;
}

/**
 * Revokes one token (RFC 7009 section 2.1). HTTP 200 is success, also for a token the server no longer
 * knows (section 2.2); anything else throws REVOKE_FAILED in the server's words. A server that wants the
 * client to authenticate (HTTP 401, or `invalid_client`) while latchkey is a public client there (no
 * secret to send) throws REVOKE_CLIENT_AUTH_REQUIRED: the session then stays valid at the server until the
 * token expires, and the action says so and how to end it there.
 */
export async function revokeToken(
  http: HttpClient,
  endpoint: RevocationEndpoint,
  token: string,
  hint: 'refresh_token' | 'access_token',
): Promise<void> {
  const response = await http.send({
    url: endpoint.revocationUrl,
    ...clientRequest(endpoint.client, { token, token_type_hint: hint }),
    retry: standardRetry,
  });
  if (response.status === 200) return;
  const error = oauthError(response);
  const words = serverMessage(response) ?? error ?? `HTTP ${response.status}`;
  const host = new URL(response.url).host;
  const which = hint === 'refresh_token' ? 'refresh' : 'access';
  if (endpoint.client.clientSecret === undefined && (response.status === 401 || error === 'invalid_client')) {
    throw new LatchkeyError({
      code: 'REVOKE_CLIENT_AUTH_REQUIRED',
      message: `${host} did not revoke the ${which} token: it revokes only for a client that authenticates, and latchkey is a public client there (${words})`,
      action: `The session stays valid at ${host} until its ${which} token expires. To end it now, sign out of it at the server (its account or session settings), or ask its administrator to.`,
      status: response.status,
    });
  }
  throw new LatchkeyError({
    code: 'REVOKE_FAILED',
    message: `${host} did not revoke the ${which} token: ${words}`,
    action: 'It may stay valid until it expires; revoke it in the server if you need to.',
    status: response.status,
  });
}

/**
 * Signs out at the server: the refresh token first (which, per RFC 7009, usually ends its access tokens
 * too), then the access token. Both are tried; the first failure is thrown after the second attempt.
 */
export async function revokeTokens(
  http: HttpClient,
  endpoint: RevocationEndpoint,
  tokens: { accessToken: string; refreshToken?: string },
): Promise<void> {
  let failure: unknown;
  if (tokens.refreshToken !== undefined) {
    await revokeToken(http, endpoint, tokens.refreshToken, 'refresh_token').catch((e: unknown) => {
      failure = e;
    });
  }
  await revokeToken(http, endpoint, tokens.accessToken, 'access_token').catch((e: unknown) => {
    failure ??= e;
  });
  if (failure !== undefined) throw failure;
}
