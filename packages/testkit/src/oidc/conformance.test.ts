/**
 * The conformance kit's refresh and revocation checks (describeOAuthServerConformance) against a real
 * standards server: oidc-provider, once with the public client and once with the confidential one (HTTP
 * Basic). A sign-in is a device login approved through the server's own pages.
 */
import { describeOAuthServerConformance, type OAuthServerClient } from '@latchkey/conformance';
import { afterAll, beforeAll } from 'vitest';
import {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_PUBLIC_CLIENT_ID,
  startOidcServer,
  type OidcServer,
} from './server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let server: OidcServer;
beforeAll(async () => {
  server = await startOidcServer({ accessTokenTtl: 300 });
});
afterAll(() => server.close());

function authOf(client: OAuthServerClient): {
  headers: Record<string, string>;
  fields: Record<string, string>;
} {
  if (client.clientSecret === undefined) return { headers: {}, fields: { client_id: client.clientId } };
  const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
  return { headers: { authorization: `Basic ${basic}` }, fields: {} };
}

async function form(url: string, client: OAuthServerClient, fields: Record<string, string>) {
  const { headers, fields: auth } = authOf(client);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ ...fields, ...auth }).toString(),
  });
  return (await response.json()) as Record<string, unknown>;
}

/** A device login approved on the server's pages (no poll before approval: the test need not wait 5 s). */
function signIn(client: OAuthServerClient) {
  return async () => {
    const start = await form(server.endpoints.deviceAuthorization, client, {
      scope: 'openid offline_access',
    });
    await server.approve(String(start.user_code));
    const tokens = await form(server.endpoints.token, client, {
      grant_type: DEVICE_GRANT,
      device_code: String(start.device_code),
    });
    if (typeof tokens.refresh_token !== 'string')
      throw new Error(`no refresh token: ${JSON.stringify(tokens.error)}`);
    return { access_token: String(tokens.access_token), refresh_token: tokens.refresh_token };
  };
}

async function accessTokenWorks(token: string): Promise<boolean> {
  const response = await fetch(server.endpoints.userinfo, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status === 200;
}

const publicClient: OAuthServerClient = { clientId: OIDC_PUBLIC_CLIENT_ID };
const confidentialClient: OAuthServerClient = {
  clientId: OIDC_CONFIDENTIAL_CLIENT_ID,
  clientSecret: OIDC_CONFIDENTIAL_CLIENT_SECRET,
};

describeOAuthServerConformance({
  name: 'oidc-provider, public client: refresh and revocation conformance',
  tokenUrl: () => server.endpoints.token,
  revocationUrl: () => server.endpoints.revocation,
  client: publicClient,
  signIn: signIn(publicClient),
  accessTokenWorks,
});

describeOAuthServerConformance({
  name: 'oidc-provider, confidential client (HTTP Basic): refresh and revocation conformance',
  tokenUrl: () => server.endpoints.token,
  revocationUrl: () => server.endpoints.revocation,
  client: confidentialClient,
  signIn: signIn(confidentialClient),
  accessTokenWorks,
});
