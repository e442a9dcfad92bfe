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
 * knows (section 2.2); anything else throws REVOKE_FAILED in the server's words.
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
  throw new LatchkeyError({
    code: 'REVOKE_FAILED',
    message: `${new URL(response.url).host} did not revoke the ${hint === 'refresh_token' ? 'refresh' : 'access'} token: ${words}`,
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
