import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, systemClock, type ProviderContext, type Verification } from '@latchkey/plugin-kit';
import {
  startKaneoServer,
  type KaneoServer,
  type KaneoServerOptions,
  type KaneoUser,
} from '@latchkey/testkit/kaneo';
import { authUrl, kaneo } from './provider.js';

// Against a REAL better-auth server configured like Kaneo: real time, so intervals are small (1 s).
const servers: KaneoServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup(options: KaneoServerOptions = {}, clientId?: string) {
  const server = await startKaneoServer({ interval: 1, ...options });
  servers.push(server);
  const user = await server.signUp({ name: 'Ada Lovelace', email: 'ada@example.com' });
  const shown: Verification[] = [];
  let onShown: (v: Verification) => void = () => undefined;
  const ctx: ProviderContext = {
    baseUrl: new URL(server.url),
    http: new HttpClient({ clientName: 'latchkey', clientVersion: '0.0.0-test' }),
    clock: systemClock,
    signal: new AbortController().signal,
    ui: {
      showVerification: (v) => void (shown.push(v), onShown(v)),
      info: () => undefined,
      warn: () => undefined,
    },
    options: clientId === undefined ? {} : { clientId },
  };
  const polls = () => server.requests.filter((r) => r.path === '/api/auth/device/token');
  return {
    server,
    user,
    ctx,
    shown,
    polls,
    whenShown: (fn: (v: Verification) => void) => void (onShown = fn),
  };
}

/** Approves (or denies) the code the way the browser does, shortly after it is shown. */
function decide(server: KaneoServer, user: KaneoUser, how: 'approve' | 'deny', afterMs = 1200) {
  return (v: Verification) =>
    void setTimeout(() => void server[how](v.userCode, user).catch(() => undefined), afterMs);
}

describe('Kaneo device login against a real better-auth server', () => {
  it('gets a token, identifies the user, and never provokes slow_down', async () => {
    const s = await setup();
    s.whenShown(decide(s.server, s.user, 'approve', 2500));
    const started = Date.now();
    const result = await kaneo.login!(s.ctx);
    expect(result.identity).toMatchObject({
      account: 'ada@example.com',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
    });
    const expires = Date.parse(result.identity.expiresAt!);
    expect(expires - started).toBeGreaterThan(604_000_000);
    expect(await s.server.getSession({ bearer: result.token })).toMatchObject({
      user: { email: 'ada@example.com' },
    });
    expect(s.polls().length).toBeGreaterThanOrEqual(2);
    expect(s.polls().map((p) => p.grantError)).not.toContain('slow_down');
    expect(s.polls().at(-1)?.status).toBe(200);
    expect(s.shown[0]?.verificationUriComplete).toContain(`user_code=${s.shown[0]?.userCode}`);
  });

  it('a denied request stops with exit 4', async () => {
    const s = await setup();
    s.whenShown(decide(s.server, s.user, 'deny'));
    await expect(kaneo.login!(s.ctx)).rejects.toMatchObject({ code: 'ACCESS_DENIED', exitCode: 4 });
  });

  it('an expired code stops by itself with exit 4', async () => {
    const s = await setup({ deviceExpiresIn: 3 });
    await expect(kaneo.login!(s.ctx)).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(s.polls().length).toBeLessThanOrEqual(3);
  });

  it('an unknown --client-id is a clear usage error before any poll', async () => {
    const s = await setup({}, 'my-tool');
    const error = await kaneo.login!(s.ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_CLIENT', exitCode: 2 });
    expect((error as Error & { action: string }).action).toContain('DEVICE_AUTH_CLIENT_IDS');
    expect(s.polls()).toEqual([]);
  });
});

describe('Kaneo credentials', () => {
  it('verify: a device token is valid until signed out (revoke), then rejected with exit 4', async () => {
    const s = await setup();
    s.whenShown(decide(s.server, s.user, 'approve'));
    const { token } = await kaneo.login!(s.ctx);
    await expect(kaneo.verify(token, s.ctx)).resolves.toMatchObject({ email: 'ada@example.com' });
    await expect(kaneo.revoke!(token, s.ctx)).resolves.toBe(true);
    expect(await s.server.getSession({ bearer: token })).toBeNull();
    await expect(kaneo.verify(token, s.ctx)).rejects.toMatchObject({
      code: 'CREDENTIAL_REJECTED',
      exitCode: 4,
    });
  });

  it('verify: an API key is checked with x-api-key, has no made-up expiry, and is not revoked at logout', async () => {
    const s = await setup();
    const key = await s.server.createApiKey(s.user, 'latchkey test');
    const before = s.server.requests.length;
    const identity = await kaneo.verify(key, s.ctx);
    expect(identity).toMatchObject({ email: 'ada@example.com', details: { credential: 'API key' } });
    // What the server received: the key in x-api-key, not as a bearer token or a cookie.
    expect(
      s.server.requests.slice(before).map((r) => ({ path: r.path, credentialHeaders: r.credentialHeaders })),
    ).toEqual([{ path: '/api/auth/get-session', credentialHeaders: ['x-api-key'] }]);
    expect(identity.expiresAt).toBeUndefined();
    await expect(kaneo.revoke!(key, s.ctx)).resolves.toBe(false);
    const wrong = `${key.slice(0, -4)}zzzz`;
    await expect(kaneo.verify(wrong, s.ctx)).rejects.toMatchObject({
      code: 'CREDENTIAL_REJECTED',
      exitCode: 4,
    });
  });

  it('a base URL that already ends in /api still reaches /api/auth', () => {
    expect(authUrl(new URL('https://kaneo.example.com/api'), '/get-session').toString()).toBe(
      'https://kaneo.example.com/api/auth/get-session',
    );
    expect(authUrl(new URL('http://localhost:1337'), '/device/code').toString()).toBe(
      'http://localhost:1337/api/auth/device/code',
    );
  });
});

describe('Kaneo device login when the server fails while polling', () => {
  /** A Kaneo whose token endpoint answers a proxy's 503 page: a scripted fetch, on a fake clock. */
  function failingKaneo() {
    let now = 0;
    const polls: number[] = [];
    const warnings: string[] = [];
    const fetch = (async (input: URL | string) => {
      const path = new URL(input).pathname;
      if (path === '/api/auth/device/code') {
        return Response.json({
          device_code: 'dc-secret-0123456789',
          user_code: 'WDJBMJHT',
          verification_uri: 'https://kaneo.example/device',
          expires_in: 1800,
          interval: 5,
        });
      }
      polls.push(now);
      return new Response('<html><h1>503 Service Unavailable</h1></html>', {
        status: 503,
        headers: { 'content-type': 'text/html' },
      });
    }) as typeof globalThis.fetch;
    const clock = { now: () => now, sleep: async (ms: number) => void (now += ms) };
    const ctx: ProviderContext = {
      baseUrl: new URL('https://kaneo.example'),
      http: new HttpClient({ clientName: 'latchkey', clientVersion: '0.0.0-test', fetch, clock }),
      clock,
      signal: new AbortController().signal,
      ui: { showVerification: () => undefined, info: () => undefined, warn: (l) => void warnings.push(l) },
      options: {},
      providerTitle: 'Kaneo',
    };
    return { ctx, polls, warnings };
  }

  it('says so once, then ends with the server problem after 5 polls (exit 1), not "expired"', async () => {
    const k = failingKaneo();
    await expect(kaneo.login!(k.ctx)).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      exitCode: 1,
      message: 'Unexpected response from kaneo.example: HTTP 503 with an HTML page.',
    });
    expect(k.polls).toEqual([5000, 10000, 17500, 28750, 45625]);
    expect(k.warnings).toEqual(['Kaneo is not answering (HTTP 503); still trying...']);
  });
});
