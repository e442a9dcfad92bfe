import { registerSecret } from '@latchkey/errors';
import type { HttpRequest } from '@latchkey/http';

/** Who latchkey is at a server's token and revocation endpoints. */
export interface OAuthClient {
  clientId: string;
  /** A confidential client's secret (read by the host from the variable the user named; never stored). */
  clientSecret?: string;
  /** Request bodies: 'form' is the standard; some servers (better-auth 1.6) accept only 'json'. */
  encoding: 'form' | 'json';
}

/**
 * The body and headers of a request from `client` (RFC 6749 section 2.3.1): a public client sends its
 * `client_id` in the body; a confidential one authenticates with HTTP Basic (both parts form-encoded).
 */
export function clientRequest(
  client: OAuthClient,
  fields: Record<string, string>,
): Pick<HttpRequest, 'form' | 'json' | 'headers'> {
  const body = { ...fields };
  let headers: Record<string, string> | undefined;
  if (client.clientSecret === undefined) {
    body.client_id = client.clientId;
  } else {
    registerSecret(client.clientSecret);
    const pair = `${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`;
    const basic = Buffer.from(pair).toString('base64');
    registerSecret(basic);
    headers = { authorization: `Basic ${basic}` };
  }
  return {
    ...(client.encoding === 'json' ? { json: body } : { form: body }),
    ...(headers && { headers }),
  };
}

/** application/x-www-form-urlencoded, as RFC 6749 appendix B asks for the Basic credentials. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
