import { timeBound } from '@latchkey/conformance/tools';
import { afterEach, describe, expect, it } from 'vitest';
import {
  OIDC_CONFIDENTIAL_CLIENT_ID,
  OIDC_CONFIDENTIAL_CLIENT_SECRET,
  OIDC_PUBLIC_CLIENT_ID,
  startOidcServer,
  type OidcServer,
} from './server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

let server: OidcServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function deviceLogin(s: OidcServer, scope = 'openid offline_access profile email') {
  const start = await post(s.endpoints.deviceAuthorization, { client_id: OIDC_PUBLIC_CLIENT_ID, scope });
  expect(start.status).toBe(200);
  const deviceCode = String(start.body.device_code);
  const pending = await post(s.endpoints.token, {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: OIDC_PUBLIC_CLIENT_ID,
  });
  expect(pending.body.error).toBe('authorization_pending');
  await s.approve(String(start.body.user_code));
  const done = await post(s.endpoints.token, {
    grant_type: DEVICE_GRANT,
    device_code: deviceCode,
    client_id: OIDC_PUBLIC_CLIENT_ID,
  });
  expect(done.status).toBe(200);
  return { start: start.body, tokens: done.body };
}

describe('startOidcServer (oidc-provider on 127.0.0.1)', () => {
  it('serves OIDC discovery listing the device, token, revocation and userinfo endpoints', async () => {
    server = await startOidcServer();
    expect(server.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const doc = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(doc.issuer).toBe(server.issuer);
    expect(doc.device_authorization_endpoint).toBe(server.endpoints.deviceAuthorization);
    expect(doc.token_endpoint).toBe(server.endpoints.token);
    expect(doc.revocation_endpoint).toBe(server.endpoints.revocation);
    expect(doc.userinfo_endpoint).toBe(server.endpoints.userinfo);
    expect(doc.scopes_supported).toContain('offline_access');
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining([DEVICE_GRANT, 'refresh_token']));
    // oidc-provider itself serves no RFC 8414 document unless asked to.
    expect((await fetch(`${server.url}/.well-known/oauth-authorization-server`)).status).toBe(404);
  });

  it('serves RFC 8414 metadata with the well-known segment before the issuer path when asked', async () => {
    server = await startOidcServer({ issuerPath: '/realms/test', metadata: 'rfc8414' });
    expect(server.issuer).toBe(`${server.url}/realms/test`);
    const answer = await fetch(`${server.url}/.well-known/oauth-authorization-server/realms/test`);
    expect(answer.status).toBe(200);
    const doc = (await answer.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(server.issuer);
    expect(doc.device_authorization_endpoint).toBe(`${server.issuer}/device/auth`);
    expect((await fetch(`${server.issuer}/.well-known/openid-configuration`)).status).toBe(404);
    expect(server.requestsTo('metadata').map((r) => [r.path, r.status])).toEqual([
      ['/.well-known/oauth-authorization-server/realms/test', 200],
      ['/realms/test/.well-known/openid-configuration', 404],
    ]);
  });

  it('serves the document only under a sub-path of its own when asked (metadataAt), naming the usual issuer', async () => {
    const at = '/api/oidc/.well-known/openid-configuration';
    server = await startOidcServer({ metadataAt: at });
    const answer = await fetch(`${server.url}${at}`);
    expect(answer.status).toBe(200);
    const doc = (await answer.json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(server.issuer);
    expect(doc.token_endpoint).toBe(server.endpoints.token);
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      expect((await fetch(`${server.url}${path}`)).status).toBe(404);
    }
    expect(server.requestsTo('metadata').map((r) => [r.path, r.status])).toEqual([
      [at, 200],
      ['/.well-known/openid-configuration', 404],
      ['/.well-known/oauth-authorization-server', 404],
    ]);
  });

  it('supports only the scopes asked for, and a client limited to some answers invalid_scope for others', async () => {
    server = await startOidcServer({
      scopes: ['openid'],
      clients: [{ clientId: 'restricted', scope: 'openid' }],
    });
    const doc = (await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json()) as {
      scopes_supported: string[];
    };
    expect(doc.scopes_supported).toContain('openid');
    expect(doc.scopes_supported).not.toContain('offline_access');
    const refused = await post(server.endpoints.deviceAuthorization, {
      client_id: 'restricted',
      scope: 'email',
    });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const allowed = await post(server.endpoints.deviceAuthorization, {
      client_id: 'restricted',
      scope: 'openid',
    });
    expect(allowed.status).toBe(200);
  });

  it('names no polling interval, as oidc-provider answers, unless pollInterval asks for one', async () => {
    server = await startOidcServer();
    const plain = await deviceLogin(server);
    expect(plain.start).not.toHaveProperty('interval');
    await server.close();
    server = await startOidcServer({ pollInterval: 1 });
    const { start } = await deviceLogin(server);
    expect(start.interval).toBe(1);
    expect(server.requestsTo('device_authorization')[0]?.answer?.interval).toBe(1);
  });

  it('runs the device flow, a rotating refresh, userinfo and revocation, and records what it received', async () => {
    server = await startOidcServer({ accessTokenTtl: 60 });
    const { start, tokens } = await deviceLogin(server);
    expect(start.verification_uri).toBe(server.endpoints.verification);
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: 60,
      scope: expect.stringContaining('offline_access'),
    });
    const access = String(tokens.access_token);
    const refresh = String(tokens.refresh_token);
    expect(refresh.length).toBeGreaterThan(20);

    const me = await fetch(server.endpoints.userinfo, { headers: { authorization: `Bearer ${access}` } });
    expect(await me.json()).toEqual({
      sub: 'alice',
      name: 'Alice Example',
      preferred_username: 'alice',
      email: 'alice@example.test',
    });

    const refreshed = await post(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: refresh,
      client_id: OIDC_PUBLIC_CLIENT_ID,
    });
    expect(refreshed.status).toBe(200);
    const newRefresh = String(refreshed.body.refresh_token);
    expect(newRefresh).not.toBe(refresh);
    expect(await server.isActive(refresh)).toBe(false); // rotated: the old one is consumed
    expect(await server.isActive(newRefresh)).toBe(true);

    const revoke = await post(server.endpoints.revocation, {
      token: newRefresh,
      token_type_hint: 'refresh_token',
      client_id: OIDC_PUBLIC_CLIENT_ID,
    });
    expect(revoke.status).toBe(200);
    expect(await server.isActive(newRefresh)).toBe(false);
    const again = await post(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: newRefresh,
      client_id: OIDC_PUBLIC_CLIENT_ID,
    });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    expect(server.requestsTo('token', 'refresh_token').map((r) => [r.status, r.error ?? null])).toEqual([
      [200, null],
      [400, 'invalid_grant'],
    ]);
    expect(server.requestsTo('revocation')).toEqual([
      expect.objectContaining({
        method: 'POST',
        contentType: 'application/x-www-form-urlencoded',
        rawBody: new URLSearchParams({
          token: newRefresh,
          token_type_hint: 'refresh_token',
          client_id: OIDC_PUBLIC_CLIENT_ID,
        }).toString(),
        body: { token: newRefresh, token_type_hint: 'refresh_token', client_id: OIDC_PUBLIC_CLIENT_ID },
        status: 200,
      }),
    ]);
    expect(server.requestsTo('token', 'refresh_token')[0]?.answer?.refresh_token).toBe(newRefresh);
    expect(server.issuedSecrets()).toEqual(expect.arrayContaining([access, refresh, newRefresh]));
    expect(server.requestsTo('device_authorization')[0]?.body.scope).toBe(
      'openid offline_access profile email',
    );
  });

  it('expires access tokens after the short TTL', async () => {
    // 3 s: a loaded machine still asks whether the token is active before it expires.
    server = await startOidcServer({ accessTokenTtl: 3 });
    const { tokens } = await deviceLogin(server, 'openid offline_access');
    expect(tokens.expires_in).toBe(3);
    const access = String(tokens.access_token);
    expect(await server.isActive(access)).toBe(true);
    await expect
      .poll(() => server!.isActive(access), { timeout: timeBound(10_000), interval: 200 })
      .toBe(false);
  });

  it('answers access_denied after deny, and takes HTTP Basic from the confidential client', async () => {
    server = await startOidcServer();
    const basic = `Basic ${Buffer.from(`${OIDC_CONFIDENTIAL_CLIENT_ID}:${OIDC_CONFIDENTIAL_CLIENT_SECRET}`).toString('base64')}`;
    const start = await post(
      server.endpoints.deviceAuthorization,
      { scope: 'openid' },
      { authorization: basic },
    );
    expect(start.status).toBe(200);
    await server.deny(String(start.body.user_code));
    const denied = await post(
      server.endpoints.token,
      { grant_type: DEVICE_GRANT, device_code: String(start.body.device_code) },
      { authorization: basic },
    );
    expect(denied).toMatchObject({ status: 400, body: { error: 'access_denied' } });
    expect(server.requestsTo('token')[0]?.basic).toEqual({
      clientId: OIDC_CONFIDENTIAL_CLIENT_ID,
      clientSecret: OIDC_CONFIDENTIAL_CLIENT_SECRET,
    });
    const wrong = await post(
      server.endpoints.token,
      { grant_type: DEVICE_GRANT, device_code: 'x' },
      { authorization: `Basic ${Buffer.from(`${OIDC_CONFIDENTIAL_CLIENT_ID}:nope`).toString('base64')}` },
    );
    expect(wrong).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('slowNext: the work is done at once, the answer comes late (a client that gives up has lost the rotation)', async () => {
    server = await startOidcServer({ accessTokenTtl: 60 });
    const { tokens } = await deviceLogin(server, 'openid offline_access');
    server.slowNext('token', { ms: 5000 });
    const started = Date.now();
    const gaveUp = fetch(server.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: String(tokens.refresh_token),
        client_id: OIDC_PUBLIC_CLIENT_ID,
      }).toString(),
      signal: AbortSignal.timeout(300),
    });
    await expect(gaveUp).rejects.toThrow();
    // The client gave up after 0.3 s, long before the 5 s answer.
    expect(Date.now() - started).toBeLessThan(timeBound(1500, { atMost: 4500 }));
    // The server rotated the refresh token all the same: the one the client still holds is spent.
    await expect
      .poll(() => server!.requestsTo('token', 'refresh_token')[0]?.status, { timeout: timeBound(5000) })
      .toBe(200);
    const [refresh] = server.requestsTo('token', 'refresh_token');
    expect(refresh).toMatchObject({ status: 200, delayedMs: 5000 });
    expect(await server.isActive(String(tokens.refresh_token))).toBe(false);
    expect(await server.isActive(String(refresh!.answer!.refresh_token))).toBe(true);
  });

  it('expiresInNext: the next token answer announces that lifetime, the one after the real one', async () => {
    server = await startOidcServer({ accessTokenTtl: 60 });
    const { tokens } = await deviceLogin(server, 'openid offline_access');
    server.expiresInNext(0);
    const refresh = (token: unknown) =>
      post(server!.endpoints.token, {
        grant_type: 'refresh_token',
        refresh_token: String(token),
        client_id: OIDC_PUBLIC_CLIENT_ID,
      });
    const first = await refresh(tokens.refresh_token);
    expect(first).toMatchObject({ status: 200, body: { expires_in: 0 } });
    expect(server.requestsTo('token', 'refresh_token')[0]!.answer).toMatchObject({ expires_in: 0 });
    const second = await refresh((first.body as Record<string, unknown>).refresh_token);
    expect(second).toMatchObject({ status: 200, body: { expires_in: 60 } });
  });

  it('fails the next requests to an endpoint on demand and revokes refresh tokens server-side', async () => {
    server = await startOidcServer({ accessTokenTtl: 60 });
    const { tokens } = await deviceLogin(server, 'openid offline_access');
    server.failNext('revocation', { status: 503 });
    const failed = await post(server.endpoints.revocation, {
      token: String(tokens.access_token),
      client_id: OIDC_PUBLIC_CLIENT_ID,
    });
    expect(failed).toMatchObject({ status: 503, body: { error: 'server_error' } });
    expect(server.requestsTo('revocation')).toEqual([
      expect.objectContaining({
        injected: true,
        status: 503,
        rawBody: `token=${String(tokens.access_token)}&client_id=${OIDC_PUBLIC_CLIENT_ID}`,
        body: expect.objectContaining({ client_id: OIDC_PUBLIC_CLIENT_ID }),
      }),
    ]);
    expect(await server.isActive(String(tokens.access_token))).toBe(true);

    // A status and nothing else: an empty body without a content type.
    server.failNext('token', { status: 400, body: '' });
    const empty = await fetch(server.endpoints.token, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }).toString(),
    });
    expect([empty.status, empty.headers.get('content-type'), await empty.text()]).toEqual([400, null, '']);
    expect(server.requestsTo('token', 'refresh_token').at(-1)).toMatchObject({ injected: true, status: 400 });
    expect(server.requestsTo('token', 'refresh_token').at(-1)!.error).toBeUndefined();

    expect(server.revokeRefreshTokens()).toBe(1);
    const rejected = await post(server.endpoints.token, {
      grant_type: 'refresh_token',
      refresh_token: String(tokens.refresh_token),
      client_id: OIDC_PUBLIC_CLIENT_ID,
    });
    expect(rejected).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
