import { describe, expect, it } from 'vitest';
import { HttpClient } from '@latchkey/http';
import { redact } from '@latchkey/errors';
import { clientRequest } from './client-auth.js';
import { refreshAccessToken } from './rfc6749.js';
import { revokeTokens } from './rfc7009.js';
import { checkEndpoint, discoverServer, discoverServerAt, metadataUrls, parseIssuer } from './rfc8414.js';
import { fetchUserinfo, identityFromClaims, idTokenClaims } from './oidc-identity.js';
import { expiryOf, oauthError, parseTokenResponse, tokenSetFromBody } from './token-response.js';
import { deviceTokenStep, parseDeviceAuthorization } from './rfc8628.js';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

type Reply = { status?: number; body?: unknown; type?: string } | ((seen: Seen) => Response);

/** An HttpClient whose fetch answers from a script (one reply per request, last one repeated) and records requests. */
function scripted(...replies: Reply[]) {
  const seen: Seen[] = [];
  const fetch = (async (input: URL | string, init: RequestInit = {}) => {
    const s: Seen = {
      method: init.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: typeof init.body === 'string' ? init.body : init.body ? String(init.body) : '',
    };
    seen.push(s);
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)]!;
    if (typeof reply === 'function') return reply(s);
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body ?? {});
    return new Response(text, {
      status: reply.status ?? 200,
      headers: { 'content-type': reply.type ?? 'application/json' },
    });
  }) as typeof globalThis.fetch;
  const http = new HttpClient({ clientName: 'latchkey', clientVersion: '0', fetch });
  return { http, seen, form: (i: number) => Object.fromEntries(new URLSearchParams(seen[i]!.body)) };
}

const now = () => 1_000_000;
const tokenUrl = new URL('https://idp.example/token');
const publicClient = { clientId: 'latchkey-cli', encoding: 'form' as const };

describe('token responses', () => {
  it('turns expires_in into a deadline and keeps refresh and ID tokens', () => {
    const tokens = tokenSetFromBody(
      { access_token: 'at-1', refresh_token: 'rt-1', id_token: 'a.b.c', expires_in: 300, scope: 'openid' },
      now(),
    );
    expect(tokens).toEqual({
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      idToken: 'a.b.c',
      expiresAt: 1_000_000 + 300_000,
      scope: 'openid',
    });
    // Every token is a secret from now on.
    tokenSetFromBody({ access_token: 'at-0123456789abcdef', refresh_token: 'rt-0123456789abcdef' }, 0);
    expect(redact('at-0123456789abcdef rt-0123456789abcdef')).not.toMatch(/0123456789abcdef/);
  });

  it('accepts expires_in as a numeric string; unknown when absent, null, empty or not a number', () => {
    expect(tokenSetFromBody({ access_token: 'x1', expires_in: '60' }, 0)?.expiresAt).toBe(60_000);
    expect(tokenSetFromBody({ access_token: 'x3', expires_in: 'soon' }, 0)?.expiresAt).toBeUndefined();
    expect(tokenSetFromBody({ access_token: 'x5' }, 0)?.expiresAt).toBeUndefined();
    expect(tokenSetFromBody({ access_token: 'x6', expires_in: null }, 0)?.expiresAt).toBeUndefined();
    expect(tokenSetFromBody({ access_token: 'x7', expires_in: '' }, 0)?.expiresAt).toBeUndefined();
    expect(tokenSetFromBody({ access_token: 'x8', expires_in: true }, 0)?.expiresAt).toBeUndefined();
    expect(tokenSetFromBody({ token: 'x' }, 0)).toBeUndefined();
  });

  it('takes an expires_in of 0 or below as already expired (the time of the request)', () => {
    const now = 1_800_000_000_000;
    for (const expiresIn of [0, -5, '-1', -1e20, Number.NEGATIVE_INFINITY]) {
      expect(tokenSetFromBody({ access_token: 'x2', expires_in: expiresIn }, now)?.expiresAt).toBe(now);
    }
    expect(expiryOf(0.4, now)).toBe(now + 400);
  });

  it('caps an absurdly long expires_in at a year', () => {
    const now = 1_800_000_000_000;
    const year = 366 * 24 * 3600 * 1000;
    for (const expiresIn of [1e12, 1e20, '1e20', Number.POSITIVE_INFINITY]) {
      expect(tokenSetFromBody({ access_token: 'x4', expires_in: expiresIn }, now)?.expiresAt).toBe(
        now + year,
      );
    }
    expect(expiryOf(366 * 24 * 3600, now)).toBe(now + year);
    expect(expiryOf(366 * 24 * 3600 - 1, now)).toBe(now + year - 1000);
  });

  it('reads the OAuth error of a body whatever its status or content type', () => {
    const base = { status: 400, headers: new Headers(), url: 'https://idp.example/token' };
    expect(oauthError({ ...base, text: '', body: { error: 'invalid_grant' }, isJson: true })).toBe(
      'invalid_grant',
    );
    expect(oauthError({ ...base, text: '{"error":"slow_down"}', body: undefined, isJson: false })).toBe(
      'slow_down',
    );
    expect(
      oauthError({
        ...base,
        text: 'error=access_denied&error_description=no',
        body: undefined,
        isJson: false,
      }),
    ).toBe('access_denied');
    expect(oauthError({ ...base, text: '<html>502</html>', body: undefined, isJson: false })).toBeUndefined();
  });

  it('a 200 without an access token is an unexpected response', () => {
    expect(() =>
      parseTokenResponse(
        { status: 200, headers: new Headers(), url: tokenUrl.href, text: '{}', body: {}, isJson: true },
        0,
      ),
    ).toThrow(expect.objectContaining({ code: 'UNEXPECTED_RESPONSE' }));
  });
});

describe('client authentication', () => {
  it('a public client sends client_id in the body, in the chosen encoding', () => {
    expect(clientRequest(publicClient, { a: '1' })).toEqual({ form: { a: '1', client_id: 'latchkey-cli' } });
    expect(clientRequest({ ...publicClient, encoding: 'json' }, { a: '1' })).toEqual({
      json: { a: '1', client_id: 'latchkey-cli' },
    });
  });

  it('a confidential client uses HTTP Basic with both parts form-encoded, and no client_id in the body', () => {
    const request = clientRequest(
      { clientId: 'my app', clientSecret: 's3cr:t+-long-enough-secret', encoding: 'form' },
      {},
    );
    expect(request.form).toEqual({});
    const basic = request.headers!.authorization!.replace('Basic ', '');
    expect(Buffer.from(basic, 'base64').toString()).toBe('my+app:s3cr%3At%2B-long-enough-secret');
    expect(redact(`x ${basic} s3cr:t+-long-enough-secret`)).not.toContain(basic);
    expect(redact(`x ${basic} s3cr:t+-long-enough-secret`)).not.toContain('long-enough-secret');
  });
});

describe('refresh (RFC 6749 section 6)', () => {
  const request = {
    tokenUrl,
    client: publicClient,
    refreshToken: 'rt-old',
    signInAgain: 'latchkey auth login --provider idp',
  };

  it('posts grant_type=refresh_token once and keeps the rotated refresh token', async () => {
    const s = scripted({ body: { access_token: 'at-new', refresh_token: 'rt-new', expires_in: 120 } });
    const tokens = await refreshAccessToken(s.http, request, now);
    expect(tokens).toMatchObject({ accessToken: 'at-new', refreshToken: 'rt-new', expiresAt: 1_120_000 });
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0]).toMatchObject({ method: 'POST', url: tokenUrl.href });
    expect(s.form(0)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-old',
      client_id: 'latchkey-cli',
    });
  });

  it("counts the new token's lifetime from when it was asked for, not from a late answer", async () => {
    let clock = 1_000_000;
    const s = scripted(() => {
      clock += 30_000; // the answer comes 30 s after the request was sent
      return Response.json({ access_token: 'at-late', expires_in: 60 });
    });
    const tokens = await refreshAccessToken(s.http, request, () => clock);
    expect(tokens.expiresAt).toBe(1_060_000);
  });

  it('keeps the old refresh token when the server does not rotate it', async () => {
    const s = scripted({ body: { access_token: 'at-2' } });
    expect(await refreshAccessToken(s.http, request, now)).toEqual({
      accessToken: 'at-2',
      refreshToken: 'rt-old',
    });
  });

  it('invalid_grant is exit 4 "sign in again", even as text/plain with status 401', async () => {
    const s = scripted({
      status: 401,
      type: 'text/plain',
      body: '{"error":"invalid_grant","error_description":"grant request is invalid"}',
    });
    const error = await refreshAccessToken(s.http, request, now).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SESSION_EXPIRED', exitCode: 4 });
    expect((error as { action: string }).action).toBe('Sign in again: latchkey auth login --provider idp');
    expect(String((error as Error).message)).not.toContain('rt-old');
  });

  it('a 5xx is not retried (a single-use refresh token must not be sent twice) and is exit 1', async () => {
    const s = scripted({ status: 503, type: 'text/html', body: '<html>down</html>' });
    await expect(refreshAccessToken(s.http, request, now)).rejects.toMatchObject({ exitCode: 1 });
    expect(s.seen).toHaveLength(1);
  });

  it('an empty 400 or 401 (no invalid_grant, no body at all) is exit 4 "sign in again" too', async () => {
    for (const status of [400, 401]) {
      for (const type of ['application/json', 'text/plain']) {
        const s = scripted({ status, type, body: '' });
        const error = await refreshAccessToken(s.http, request, now).catch((e: unknown) => e);
        expect(error).toMatchObject({
          code: 'SESSION_EXPIRED',
          exitCode: 4,
          status,
          message: `idp.example no longer accepts the refresh token: HTTP ${status} without a reason.`,
          action: 'Sign in again: latchkey auth login --provider idp',
        });
        expect(s.seen).toHaveLength(1);
      }
    }
    // Any other OAuth error in a 400 says the same: the refresh token is no longer good.
    await expect(
      refreshAccessToken(scripted({ status: 400, body: { error: 'invalid_request' } }).http, request, now),
    ).rejects.toMatchObject({ code: 'SESSION_EXPIRED', exitCode: 4 });
  });

  it('invalid_client and unauthorized_client are usage errors; OAuth errors in other statuses exit 1', async () => {
    await expect(
      refreshAccessToken(scripted({ status: 401, body: { error: 'invalid_client' } }).http, request, now),
    ).rejects.toMatchObject({ code: 'INVALID_CLIENT', exitCode: 2 });
    await expect(
      refreshAccessToken(
        scripted({ status: 400, body: { error: 'unauthorized_client' } }).http,
        request,
        now,
      ),
    ).rejects.toMatchObject({ code: 'INVALID_CLIENT', exitCode: 2 });
    await expect(
      refreshAccessToken(scripted({ status: 403, body: { error: 'invalid_scope' } }).http, request, now),
    ).rejects.toMatchObject({ code: 'OAUTH_INVALID_SCOPE', exitCode: 1 });
    await expect(
      refreshAccessToken(scripted({ status: 403, type: 'text/html', body: '<p>no</p>' }).http, request, now),
    ).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', exitCode: 1 });
  });

  it('a confidential client refreshes with HTTP Basic', async () => {
    const s = scripted({ body: { access_token: 'at-3' } });
    await refreshAccessToken(
      s.http,
      { ...request, client: { clientId: 'c', clientSecret: 'sec', encoding: 'form' } },
      now,
    );
    expect(s.seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('c:sec').toString('base64')}`);
    expect(s.form(0)).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-old' });
  });
});

describe('revocation (RFC 7009)', () => {
  const endpoint = { revocationUrl: new URL('https://idp.example/revoke'), client: publicClient };

  it('revokes the refresh token first, then the access token, with hints', async () => {
    const s = scripted({ status: 200, body: '' });
    await revokeTokens(s.http, endpoint, { accessToken: 'at', refreshToken: 'rt' });
    expect([s.form(0), s.form(1)]).toEqual([
      { token: 'rt', token_type_hint: 'refresh_token', client_id: 'latchkey-cli' },
      { token: 'at', token_type_hint: 'access_token', client_id: 'latchkey-cli' },
    ]);
  });

  it('without a refresh token only the access token is revoked', async () => {
    const s = scripted({ status: 200, body: '' });
    await revokeTokens(s.http, endpoint, { accessToken: 'at' });
    expect(s.seen).toHaveLength(1);
  });

  it('a refused revocation still tries the access token, then throws REVOKE_FAILED in the server words', async () => {
    const s = scripted({ status: 400, body: { error: 'unsupported_token_type' } }, { status: 200, body: '' });
    await expect(
      revokeTokens(s.http, endpoint, { accessToken: 'at', refreshToken: 'rt' }),
    ).rejects.toMatchObject({
      code: 'REVOKE_FAILED',
      message: expect.stringContaining('unsupported_token_type'),
    });
    expect(s.seen).toHaveLength(2);
  });
});

describe('revocation refused for want of client authentication', () => {
  const endpoint = { revocationUrl: new URL('https://idp.example/revoke'), client: publicClient };

  it('a 401 (even empty) to a public client: the session stays valid until the refresh token expires, and how to end it', async () => {
    for (const reply of [
      { status: 401, body: '', type: 'text/plain' },
      { status: 401, body: { error: 'invalid_client' } },
      { status: 400, body: { error: 'invalid_client', error_description: 'client authentication failed' } },
    ]) {
      const s = scripted(reply);
      const error = await revokeTokens(s.http, endpoint, { accessToken: 'at', refreshToken: 'rt' }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        code: 'REVOKE_CLIENT_AUTH_REQUIRED',
        message: expect.stringMatching(
          /^idp\.example did not revoke the refresh token: it revokes only for a client that authenticates, and latchkey is a public client there \(/,
        ),
        action: expect.stringContaining(
          'The session stays valid at idp.example until its refresh token expires. To end it now, sign out of it at the server',
        ),
      });
      // Both were tried.
      expect(s.seen).toHaveLength(2);
    }
    const accessOnly = await revokeTokens(scripted({ status: 401, body: '' }).http, endpoint, {
      accessToken: 'at',
    }).catch((e: unknown) => e);
    expect(accessOnly).toMatchObject({ action: expect.stringContaining('until its access token expires') });
  });

  it('a confidential client refused with 401 is an ordinary REVOKE_FAILED (its secret is wrong, not missing)', async () => {
    const s = scripted({ status: 401, body: { error: 'invalid_client' } });
    await expect(
      revokeTokens(
        s.http,
        { ...endpoint, client: { clientId: 'c', clientSecret: 'sec', encoding: 'form' } },
        { accessToken: 'at' },
      ),
    ).rejects.toMatchObject({ code: 'REVOKE_FAILED' });
  });
});

describe('discovery (RFC 8414, then OpenID Connect)', () => {
  const metadata = (issuer: string) => ({
    issuer,
    device_authorization_endpoint: `${issuer}/device`,
    token_endpoint: `${issuer}/token`,
    revocation_endpoint: `${issuer}/revoke`,
    userinfo_endpoint: `${issuer}/me`,
    scopes_supported: ['openid', 'offline_access', 7],
  });

  it('tries the well-known addresses in order: inserted, appended, OpenID Connect', () => {
    expect(metadataUrls(new URL('https://idp.example/realms/dev')).map(String)).toEqual([
      'https://idp.example/.well-known/oauth-authorization-server/realms/dev',
      'https://idp.example/realms/dev/.well-known/oauth-authorization-server',
      'https://idp.example/realms/dev/.well-known/openid-configuration',
    ]);
    expect(metadataUrls(new URL('https://idp.example/')).map(String)).toEqual([
      'https://idp.example/.well-known/oauth-authorization-server',
      'https://idp.example/.well-known/openid-configuration',
    ]);
  });

  it('falls back to OpenID Connect when RFC 8414 is not there, and keeps the endpoints', async () => {
    const s = scripted(
      { status: 404, type: 'text/html', body: 'Not found' },
      { body: metadata('https://idp.example') },
    );
    const found = await discoverServer(s.http, 'https://idp.example');
    expect(s.seen.map((r) => new URL(r.url).pathname)).toEqual([
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration',
    ]);
    expect({
      device: found.deviceAuthorizationUrl?.href,
      token: found.tokenUrl?.href,
      revoke: found.revocationUrl?.href,
      userinfo: found.userinfoUrl?.href,
      scopes: found.scopesSupported,
    }).toEqual({
      device: 'https://idp.example/device',
      token: 'https://idp.example/token',
      revoke: 'https://idp.example/revoke',
      userinfo: 'https://idp.example/me',
      scopes: ['openid', 'offline_access'],
    });
  });

  it('rejects a plain-http endpoint for a remote host (exit 2 naming the field)', async () => {
    const s = scripted({
      body: { ...metadata('https://idp.example'), token_endpoint: 'http://idp.example/token' },
    });
    await expect(discoverServer(s.http, 'https://idp.example')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('token_endpoint'),
    });
  });

  it('rejects metadata for another issuer (RFC 8414 section 3.3)', async () => {
    const s = scripted({ body: metadata('https://evil.example') });
    await expect(discoverServer(s.http, 'https://idp.example')).rejects.toMatchObject({
      exitCode: 2,
    });
  });

  it('refuses metadata that names no issuer, or an empty one (RFC 8414 section 3.3)', async () => {
    for (const issuer of [undefined, null, '', 7]) {
      const s = scripted({ body: { ...metadata('https://idp.example'), issuer } });
      await expect(discoverServer(s.http, 'https://idp.example')).rejects.toMatchObject({
        code: 'DISCOVERY_FAILED',
        exitCode: 1,
        message: expect.stringContaining('names no issuer'),
      });
    }
  });

  it('compares the issuer character for character: no trailing-slash, case or port leniency', async () => {
    const cases: Array<[asked: string, said: string]> = [
      ['https://idp.example', 'https://idp.example/'],
      ['https://idp.example/', 'https://idp.example'],
      ['https://idp.example/realms/dev', 'https://idp.example/realms/dev/'],
      ['https://idp.example', 'https://IDP.example'],
      ['https://idp.example', 'https://idp.example:443'],
    ];
    for (const [asked, said] of cases) {
      const s = scripted({ body: metadata(said) });
      await expect(discoverServer(s.http, asked)).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('different issuer'),
      });
    }
    const s = scripted({ body: metadata('https://idp.example/') });
    expect((await discoverServer(s.http, 'https://idp.example/')).issuer).toBe('https://idp.example/');
  });

  it('refuses an issuer with a query or a fragment before asking the server (exit 2)', async () => {
    for (const issuer of [
      'http://127.0.0.1:9/?q=1',
      'http://127.0.0.1:9/#f',
      'https://idp.example?',
      'https://idp.example#',
    ]) {
      const s = scripted({ body: metadata('https://idp.example') });
      await expect(discoverServer(s.http, issuer)).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('query or a fragment'),
      });
      expect(s.seen).toEqual([]);
    }
    expect(() => parseIssuer('http://idp.example', '--issuer')).toThrow(/plain http/);
    expect(parseIssuer('https://idp.example/realms/dev').pathname).toBe('/realms/dev');
  });

  it('says what it tried when nothing answers with metadata', async () => {
    const s = scripted({ status: 404, body: 'no' });
    await expect(discoverServer(s.http, 'https://idp.example')).rejects.toMatchObject({
      code: 'DISCOVERY_FAILED',
      message: expect.stringContaining('/.well-known/openid-configuration (HTTP 404)'),
    });
  });

  it('checkEndpoint allows https and loopback http only', () => {
    expect(checkEndpoint('http://127.0.0.1:9/token', '--token-url').port).toBe('9');
    expect(() => checkEndpoint('http://idp.example/token', '--token-url')).toThrow(/--token-url/);
    expect(() => checkEndpoint('https://u:p@idp.example/token', '--token-url')).toThrow(/user name/);
    expect(() => checkEndpoint('nope', '--token-url')).toThrow(/not a valid URL/);
  });
});

describe('discovery from a document of its own (--discovery-url)', () => {
  const at = 'https://idp.example/api/oidc/.well-known/openid-configuration';
  const doc = (issuer: string, base = 'https://idp.example/api/oidc') => ({
    issuer,
    device_authorization_endpoint: `${base}/device`,
    token_endpoint: `${base}/token`,
  });

  it('reads exactly that address, once, and takes the issuer it names when it is on the same server', async () => {
    const s = scripted({ body: doc('https://idp.example') });
    const found = await discoverServerAt(s.http, at);
    expect(s.seen.map((r) => r.url)).toEqual([at]);
    expect(found).toMatchObject({
      issuer: 'https://idp.example',
      source: new URL(at),
      tokenUrl: new URL('https://idp.example/api/oidc/token'),
      deviceAuthorizationUrl: new URL('https://idp.example/api/oidc/device'),
    });
  });

  it('refuses an issuer on another server unless --issuer names it exactly (mix-up defence)', async () => {
    const other = doc('https://accounts.other.example');
    await expect(discoverServerAt(scripted({ body: other }).http, at)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(
        'names the issuer "https://accounts.other.example", which is not on https://idp.example',
      ),
      action: expect.stringContaining('pass --issuer https://accounts.other.example with --discovery-url'),
    });
    const confirmed = await discoverServerAt(scripted({ body: other }).http, at, {
      issuer: 'https://accounts.other.example',
    });
    expect(confirmed.issuer).toBe('https://accounts.other.example');
    // --issuer is compared character for character, as RFC 8414 section 3.3 compares.
    for (const issuer of ['https://idp.example/', 'https://IDP.example', 'https://idp.example:443']) {
      await expect(
        discoverServerAt(scripted({ body: doc('https://idp.example') }).http, at, { issuer }),
      ).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('describes a different issuer'),
      });
    }
  });

  it('holds the named issuer to RFC 8414 section 2: none, plain http off this machine, a query or a fragment', async () => {
    const noIssuer = {
      device_authorization_endpoint: 'https://idp.example/d',
      token_endpoint: 'https://idp.example/t',
    };
    await expect(discoverServerAt(scripted({ body: noIssuer }).http, at)).rejects.toMatchObject({
      code: 'DISCOVERY_FAILED',
      exitCode: 1,
    });
    for (const issuer of ['http://idp.example', 'https://idp.example?tenant=1', 'https://idp.example#x']) {
      await expect(discoverServerAt(scripted({ body: doc(issuer) }).http, at)).rejects.toMatchObject({
        exitCode: 2,
      });
    }
    // Its endpoints too.
    await expect(
      discoverServerAt(scripted({ body: doc('https://idp.example', 'http://idp.example') }).http, at),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('device_authorization_endpoint'),
    });
  });

  it('a plain-http address off this machine is refused before any request; a 404 or a page is DISCOVERY_FAILED', async () => {
    const s = scripted({ body: doc('https://idp.example') });
    await expect(discoverServerAt(s.http, 'http://idp.example/doc')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--discovery-url'),
    });
    expect(s.seen).toEqual([]);
    await expect(
      discoverServerAt(scripted({ status: 404, body: { error: 'not_found' } }).http, at),
    ).rejects.toMatchObject({ code: 'DISCOVERY_FAILED', message: expect.stringContaining('HTTP 404') });
    await expect(
      discoverServerAt(scripted({ type: 'text/html', body: '<html></html>' }).http, at),
    ).rejects.toMatchObject({
      code: 'DISCOVERY_FAILED',
      message: expect.stringContaining('not a JSON object'),
    });
  });
});

describe('identity', () => {
  const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

  it('reads the claims of an ID token, for display', () => {
    expect(idTokenClaims(jwt({ sub: 'u1', email: 'ada@example.com' }))).toEqual({
      sub: 'u1',
      email: 'ada@example.com',
    });
    expect(idTokenClaims('not-a-jwt')).toBeUndefined();
    expect(idTokenClaims('a.!!!.c')).toBeUndefined();
  });

  it('prefers email, then preferred_username, then sub for the account; keeps the name', () => {
    expect(identityFromClaims({ sub: 'u1', name: 'Ada', email: 'ada@example.com' })).toEqual({
      account: 'ada@example.com',
      name: 'Ada',
      email: 'ada@example.com',
    });
    expect(identityFromClaims({ sub: 'u1', preferred_username: 'ada' })).toEqual({ account: 'ada' });
    expect(identityFromClaims({ sub: 'u1' })).toEqual({ account: 'u1' });
    expect(identityFromClaims({ name: 'Ada' })).toEqual({ account: 'Ada', name: 'Ada' });
    expect(identityFromClaims({ iss: 'x' })).toBeUndefined();
  });

  it('asks the userinfo endpoint with the bearer token; 401 is exit 4', async () => {
    const ok = scripted({ body: { sub: 'u1', email: 'ada@example.com' } });
    expect(await fetchUserinfo(ok.http, new URL('https://idp.example/me'), 'at', now, 'login')).toEqual({
      sub: 'u1',
      email: 'ada@example.com',
    });
    expect(ok.seen[0]!.headers.authorization).toBe('Bearer at');
    const rejected = scripted({ status: 401, body: { error: 'invalid_token' } });
    await expect(
      fetchUserinfo(rejected.http, new URL('https://idp.example/me'), 'at', now, 'login'),
    ).rejects.toMatchObject({ code: 'CREDENTIAL_REJECTED', exitCode: 4 });
  });
});

describe('device token step (RFC 8628 section 3.5)', () => {
  const endpoints = {
    deviceAuthorizationUrl: new URL('https://idp.example/device'),
    tokenUrl,
    clientId: 'cli',
    encoding: 'form' as const,
  };
  const answer = (status: number, text: string, type: string) => {
    const isJson = type.includes('json') && text.startsWith('{');
    return {
      status,
      headers: new Headers({ 'content-type': type }),
      text,
      body: isJson ? (JSON.parse(text) as unknown) : undefined,
      isJson,
      url: tokenUrl.href,
    };
  };

  it('reads the error whatever the status or content type', () => {
    expect(
      deviceTokenStep(answer(400, '{"error":"authorization_pending"}', 'application/json'), endpoints, 0),
    ).toEqual({ status: 'pending' });
    expect(
      deviceTokenStep(answer(401, '{"error":"authorization_pending"}', 'text/plain'), endpoints, 0),
    ).toEqual({ status: 'pending' });
    expect(
      deviceTokenStep(answer(400, 'error=slow_down', 'application/x-www-form-urlencoded'), endpoints, 0),
    ).toEqual({ status: 'slow_down' });
    expect(() => deviceTokenStep(answer(403, 'error=access_denied', 'text/plain'), endpoints, 0)).toThrow(
      expect.objectContaining({ exitCode: 4 }),
    );
    expect(() =>
      deviceTokenStep(answer(400, '{"error":"expired_token"}', 'text/html'), endpoints, 0),
    ).toThrow(expect.objectContaining({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 }));
  });

  it('a device authorization without verification_uri_complete is fine; with it, it is kept', () => {
    const base = {
      device_code: 'dc-0123456789abcdef',
      user_code: 'ABCD',
      verification_uri: 'https://idp.example/activate',
    };
    const read = (body: object) =>
      parseDeviceAuthorization({
        status: 200,
        headers: new Headers(),
        text: '',
        body,
        isJson: true,
        url: tokenUrl.href,
      });
    expect(read(base).verificationUriComplete).toBeUndefined();
    expect(
      read({ ...base, verification_uri_complete: 'https://idp.example/activate?c=ABCD' })
        .verificationUriComplete,
    ).toBe('https://idp.example/activate?c=ABCD');
  });
});
