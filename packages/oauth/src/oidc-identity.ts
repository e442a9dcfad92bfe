import { ExitCode, LatchkeyError } from '@latchkey/errors';
import { answerFailure, standardRetry, unexpectedResponse, type HttpClient } from '@latchkey/http';

/** Who a token belongs to, from OpenID Connect claims (not yet sanitized for printing: the host does it). */
export interface ClaimsIdentity {
  /** A label unique on the server: `email`, else `preferred_username`, else `sub`, else `name`. */
  account: string;
  name?: string;
  email?: string;
  details?: Record<string, string>;
}

/** An ID token is a few kilobytes; anything longer is not decoded. */
const maxIdTokenLength = 16 * 1024;

/**
 * The claims of an ID token (the JWT payload), for display only: the signature is not checked, so
 * nothing here may decide access. Undefined when it is not a readable JWT.
 */
export function idTokenClaims(idToken: string): Record<string, unknown> | undefined {
  if (idToken.length > maxIdTokenLength) return undefined;
  const payload = idToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The identity in a set of claims (`name`, `email`, `preferred_username`, `sub`); undefined when none is there. */
export function identityFromClaims(claims: Record<string, unknown>): ClaimsIdentity | undefined {
  const text = (key: string) => {
    const value = claims[key];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  };
  const name = text('name');
  const email = text('email');
  const username = text('preferred_username');
  const sub = text('sub');
  const account = email ?? username ?? sub ?? name;
  if (account === undefined) return undefined;
  const identity: ClaimsIdentity = { account };
  if (name !== undefined) identity.name = name;
  if (email !== undefined) identity.email = email;
  if (username !== undefined && username !== account) identity.details = { username };
  return identity;
}

/**
 * The user's claims from the userinfo endpoint (OpenID Connect Core section 5.3): a GET with the access
 * token. A 401 is CREDENTIAL_REJECTED (exit 4); other failures are the shared HTTP errors.
 */
export async function fetchUserinfo(
  http: HttpClient,
  userinfoUrl: URL,
  accessToken: string,
  now: () => number,
  signInAgain: string,
): Promise<Record<string, unknown>> {
  const response = await http.send({
    url: userinfoUrl,
    bearer: accessToken,
    headers: { accept: 'application/json' },
    retry: standardRetry,
  });
  if (response.status === 401 || response.status === 403) {
    throw new LatchkeyError({
      code: 'CREDENTIAL_REJECTED',
      message: `${userinfoUrl.host} rejected the access token (it expired or was revoked).`,
      action: `Sign in again: ${signInAgain}`,
      exitCode: ExitCode.Auth,
      status: response.status,
    });
  }
  if (response.status !== 200) throw answerFailure(response, now()) ?? unexpectedResponse(response);
  const body = response.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unexpectedResponse(response);
  return body as Record<string, unknown>;
}
