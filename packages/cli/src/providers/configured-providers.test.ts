/**
 * A configured provider (built from a providers.json definition) with a scripted server: an injected
 * fetch and a fake clock, so every branch runs in milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { HttpClient } from '@latchkey/http';
import type { ProviderContext } from '@latchkey/plugin-kit';
import type { ProviderDefinition } from '@latchkey/storage';
import {
  addAgainCommand,
  configuredManifest,
  configuredProvider,
  isConfiguredProvider,
} from './configured-providers.js';

const base: ProviderDefinition = {
  issuer: 'https://idp.example',
  clientId: 'latchkey-cli',
  encoding: 'form',
  deviceAuthorizationUrl: 'https://idp.example/device',
  tokenUrl: 'https://idp.example/token',
  baseUrl: 'https://idp.example',
  addedAt: '2026-12-01T00:00:00.000Z',
};

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

type Route = (
  body: Record<string, string>,
  headers: Record<string, string>,
) => { status?: number; body: unknown };

function server(routes: Record<string, Route>) {
  const seen: Array<{ path: string; body: Record<string, string>; headers: Record<string, string> }> = [];
  const fetch = (async (input: URL | string, init: RequestInit = {}) => {
    const path = new URL(String(input)).pathname;
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const raw = typeof init.body === 'string' ? init.body : '';
    const body = raw.startsWith('{')
      ? (JSON.parse(raw) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(raw));
    seen.push({ path, body, headers });
    const route = routes[path];
    const reply = route ? route(body, headers) : { status: 404, body: { error: 'not_found' } };
    return new Response(JSON.stringify(reply.body), {
      status: reply.status ?? 200,
      headers: { 'content-type': 'application/json' },
    });
  }) as typeof globalThis.fetch;
  let now = Date.parse('2026-12-02T00:00:00Z');
  const warnings: string[] = [];
  const shown: string[] = [];
  const ctx: ProviderContext = {
    baseUrl: new URL('https://idp.example'),
    http: new HttpClient({ clientName: 'latchkey', clientVersion: '0', fetch }),
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
    signal: new AbortController().signal,
    ui: {
      showVerification: (v) => void shown.push(v.userCode),
      info: () => undefined,
      warn: (l) => void warnings.push(l),
    },
    options: {},
  };
  return { ctx, seen, shown, warnings, paths: () => seen.map((s) => s.path) };
}

const device: Route = () => ({
  body: {
    device_code: 'dc-0123456789abcdef',
    user_code: 'WDJB-MJHT',
    verification_uri: 'https://idp.example/activate',
    interval: 5,
    expires_in: 600,
  },
});

function tokenAfter(pending: number, answer: object): Route {
  let polls = 0;
  return () =>
    polls++ < pending ? { status: 400, body: { error: 'authorization_pending' } } : { body: answer };
}

describe('configured provider', () => {
  it('is a provider with the id, base URL and exec variable of its definition', () => {
    const provider = configuredProvider('corp-idp', base, {});
    expect(configuredManifest('corp-idp', base)).toMatchObject({
      id: 'corp-idp',
      defaultBaseUrl: 'https://idp.example',
      methods: ['device', 'token'],
      execEnv: { LATCHKEY_CORP_IDP_TOKEN: 'token' },
    });
    expect(isConfiguredProvider(provider)).toBe(true);
  });

  it('device login: form-encoded, scopes space-joined, identity from userinfo, refresh token and expiry kept', async () => {
    const s = server({
      '/device': device,
      '/token': tokenAfter(1, {
        access_token: 'at-0123456789abcdef',
        refresh_token: 'rt-0123456789abcdef',
        expires_in: 300,
        token_type: 'Bearer',
      }),
      '/me': () => ({ body: { sub: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' } }),
    });
    const provider = configuredProvider(
      'idp',
      { ...base, scopes: ['openid', 'offline_access'], userinfoUrl: 'https://idp.example/me' },
      {},
    );
    const started = s.ctx.clock.now();
    const result = await provider.login(s.ctx);
    expect(result).toEqual({
      token: 'at-0123456789abcdef',
      refreshToken: 'rt-0123456789abcdef',
      identity: {
        account: 'ada@example.com',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        expiresAt: new Date(started + 10_000 + 300_000).toISOString(),
      },
    });
    expect(s.seen[0]!.body).toEqual({ scope: 'openid offline_access', client_id: 'latchkey-cli' });
    expect(s.seen[0]!.headers['content-type']).toMatch(/x-www-form-urlencoded/);
    expect(s.paths()).toEqual(['/device', '/token', '/token', '/me']);
    expect(s.seen[3]!.headers.authorization).toBe('Bearer at-0123456789abcdef');
    expect(s.shown).toEqual(['WDJB-MJHT']);
  });

  it('without a userinfo endpoint, the identity comes from the ID token claims; JSON bodies when asked', async () => {
    const s = server({
      '/device': device,
      '/token': tokenAfter(0, {
        access_token: 'at-abcdef0123456789',
        id_token: jwt({ sub: 'u2', preferred_username: 'grace' }),
      }),
    });
    const provider = configuredProvider('idp', { ...base, encoding: 'json' }, {});
    const result = await provider.login(s.ctx);
    expect(result.identity).toEqual({ account: 'grace' });
    expect(result.refreshToken).toBeUndefined();
    expect(s.seen[0]!.headers['content-type']).toMatch(/json/);
    expect(s.seen[1]!.body).toMatchObject({
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      client_id: 'latchkey-cli',
    });
  });

  it('a userinfo endpoint that refuses the new token only costs the name: a warning, then the ID token', async () => {
    const s = server({
      '/device': device,
      '/token': tokenAfter(0, {
        access_token: 'at-noinfo-0123456789',
        id_token: jwt({ sub: 'u3', email: 'eve@example.com' }),
      }),
      '/me': () => ({ status: 403, body: { error: 'insufficient_scope' } }),
    });
    const provider = configuredProvider('idp', { ...base, userinfoUrl: 'https://idp.example/me' }, {});
    expect((await provider.login(s.ctx)).identity).toEqual({
      account: 'eve@example.com',
      email: 'eve@example.com',
    });
    expect(s.warnings).toEqual([
      'idp.example refused the userinfo request (HTTP 403); the name shown comes from the ID token.',
    ]);
  });

  it('a confidential client authenticates with HTTP Basic from its variable at every endpoint', async () => {
    const s = server({
      '/device': device,
      '/token': tokenAfter(0, { access_token: 'at-basic-0123456789ab' }),
    });
    const provider = configuredProvider(
      'idp',
      { ...base, clientSecretEnv: 'IDP_SECRET' },
      { IDP_SECRET: 'secret-0123456789abcdef' },
    );
    await provider.login(s.ctx);
    const basic = `Basic ${Buffer.from('latchkey-cli:secret-0123456789abcdef').toString('base64')}`;
    expect(s.seen.map((r) => r.headers.authorization)).toEqual([basic, basic]);
    expect(s.seen.every((r) => r.body.client_id === undefined)).toBe(true);
    await expect(
      configuredProvider('idp', { ...base, clientSecretEnv: 'IDP_SECRET' }, {}).login(s.ctx),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('IDP_SECRET'),
    });
  });

  it('a denied request is exit 4; an endpoint edited to plain http is refused before any request', async () => {
    const s = server({
      '/device': device,
      '/token': () => ({ status: 400, body: { error: 'access_denied' } }),
    });
    await expect(configuredProvider('idp', base, {}).login(s.ctx)).rejects.toMatchObject({ exitCode: 4 });
    const t = server({});
    await expect(
      configuredProvider('idp', { ...base, tokenUrl: 'http://idp.example/token' }, {}).login(t.ctx),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('tokenUrl'),
    });
    expect(t.seen).toEqual([]);
  });

  it('verify asks userinfo (401 is exit 4); without one it reads a JWT access token, else says it cannot tell', async () => {
    const s = server({
      '/me': (_b, h) =>
        h.authorization === 'Bearer good-token-0123456789'
          ? { body: { sub: 'u1' } }
          : { status: 401, body: {} },
    });
    const withInfo = configuredProvider('idp', { ...base, userinfoUrl: 'https://idp.example/me' }, {});
    expect(await withInfo.verify('good-token-0123456789', s.ctx)).toEqual({ account: 'u1' });
    await expect(withInfo.verify('bad-token-0123456789', s.ctx)).rejects.toMatchObject({
      code: 'CREDENTIAL_REJECTED',
      exitCode: 4,
    });
    const without = configuredProvider('idp', base, {});
    // Nothing asked the server: shown as not checked, with why.
    expect(await without.verify(jwt({ email: 'ada@example.com' }), s.ctx)).toEqual({
      account: 'ada@example.com',
      email: 'ada@example.com',
      notChecked: "the server has no userinfo endpoint; shown from the access token's own claims",
    });
    expect(await without.verify('opaque-token-0123456789', s.ctx)).toEqual({
      account: 'unknown user',
      notChecked: 'the server has no userinfo endpoint',
    });
  });

  it('revokes the refresh token, then the access token; false without a revocation endpoint', async () => {
    const s = server({ '/revoke': () => ({ body: {} }) });
    const provider = configuredProvider('idp', { ...base, revocationUrl: 'https://idp.example/revoke' }, {});
    expect(await provider.revokeSession({ accessToken: 'at-x', refreshToken: 'rt-x' }, s.ctx)).toBe(true);
    expect(s.seen.map((r) => [r.body.token_type_hint, r.body.token])).toEqual([
      ['refresh_token', 'rt-x'],
      ['access_token', 'at-x'],
    ]);
    expect(await configuredProvider('idp', base, {}).revokeSession({ accessToken: 'at-x' }, s.ctx)).toBe(
      false,
    );
  });
});

describe('addAgainCommand: how to change one thing of a provider', () => {
  it('names the issuer, or the discovery document (and an issuer it had to confirm), or the endpoints', () => {
    expect(addAgainCommand('corp', base, '--scope SCOPE')).toBe(
      '`latchkey auth providers add corp --force --issuer https://idp.example --scope SCOPE`',
    );
    const doc = 'https://idp.example/api/oidc/.well-known/openid-configuration';
    expect(addAgainCommand('corp', { ...base, discoveryUrl: doc }, '--scope SCOPE')).toBe(
      `\`latchkey auth providers add corp --force --discovery-url ${doc} --scope SCOPE\``,
    );
    expect(
      addAgainCommand('corp', { ...base, issuer: 'https://sso.example', discoveryUrl: doc }, '--scope X'),
    ).toBe(
      `\`latchkey auth providers add corp --force --discovery-url ${doc} --issuer https://sso.example --scope X\``,
    );
    const { issuer: _, ...explicit } = base;
    expect(addAgainCommand('corp', { ...explicit, encoding: 'json' }, '--scope X')).toBe(
      '`latchkey auth providers add corp --force --encoding json --scope X` (and the --*-url flags it was added with)',
    );
  });
});
