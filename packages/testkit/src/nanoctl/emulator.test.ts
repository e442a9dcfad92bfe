import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '@latchkey/conformance/tools';
import { startNanoctlEmulator, type NanoctlEmulator, type NanoctlEmulatorOptions } from './emulator.js';

const START = 1_700_000_000_000; // 2023-11-14T22:13:20.000Z
const DAY = 24 * 60 * 60 * 1000;

let emulator: NanoctlEmulator | undefined;
let clock: FakeClock;

async function start(options: NanoctlEmulatorOptions = {}): Promise<NanoctlEmulator> {
  clock = createFakeClock(START);
  emulator = await startNanoctlEmulator({ clock, ...options });
  return emulator;
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

/** Checks every 5 ms until `check` holds; fails after 60 s (generous: a loaded CI machine is slow). */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function whoami(token?: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return fetch(`${emulator!.url}/v1/whoami`, {
    ...init,
    headers: { ...headers, ...(init.headers as object) },
  });
}

async function answer(res: Response): Promise<{ status: number; body: unknown }> {
  return { status: res.status, body: await res.json() };
}

describe('nanoctl emulator: whoami', () => {
  it('answers 200 with the username and expiry for a default token, on 127.0.0.1', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const added = emulator!.addToken();
    expect(added.token).toMatch(/^nsv_[0-9A-Za-z]{32}$/);
    expect(added.username).toBe('dev-user');
    expect(added.expiresAt).toBe(new Date(START + 90 * DAY).toISOString());

    const res = await whoami(added.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ username: 'dev-user', expiresAt: '2024-02-12T22:13:20.000Z' });
  });

  it('serves pre-provisioned tokens with their own username and expiry, normalised to ISO', async () => {
    await start({
      tokens: [{ token: 'my-ci-token', username: 'alice', expiresAt: '2030-01-01T00:00:00Z' }],
    });
    expect(await answer(await whoami('my-ci-token'))).toEqual({
      status: 200,
      body: { username: 'alice', expiresAt: '2030-01-01T00:00:00.000Z' },
    });
    // Random tokens differ.
    expect(emulator!.addToken().token).not.toBe(emulator!.addToken().token);
  });

  it('accepts the scheme in any case and surrounding spaces', async () => {
    await start({ tokens: [{ token: 'tok-1' }] });
    const res = await fetch(`${emulator!.url}/v1/whoami?verbose=1`, {
      headers: { authorization: '  bearer   tok-1 ' },
    });
    expect(res.status).toBe(200);
  });

  it('answers 401 invalid_token for an unknown token', async () => {
    await start({ tokens: [{ token: 'good' }] });
    const res = await whoami('nsv_notarealtoken');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="nanoservices", error="invalid_token"');
    expect(await res.json()).toEqual({
      error: 'invalid_token',
      message: 'The token is invalid or has been revoked.',
    });
  });

  it('answers 401 invalid_token for a revoked token, whether revoked later or provisioned so', async () => {
    await start({ tokens: [{ token: 'born-revoked', revoked: true }] });
    const { token } = emulator!.addToken();
    expect((await whoami(token)).status).toBe(200);
    emulator!.revokeToken(token);
    emulator!.revokeToken(token); // twice is harmless
    for (const t of [token, 'born-revoked']) {
      expect(await answer(await whoami(t))).toEqual({
        status: 401,
        body: { error: 'invalid_token', message: 'The token is invalid or has been revoked.' },
      });
    }
    expect(() => emulator!.revokeToken('never-issued')).toThrow(/unknown token/);
  });

  it('answers 401 invalid_token when the header is missing or is not a bearer token', async () => {
    await start({ tokens: [{ token: 'good' }] });
    const missing = await whoami();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="nanoservices"');
    expect(await missing.json()).toEqual({
      error: 'invalid_token',
      message: 'Missing token: send Authorization: Bearer <token>.',
    });
    for (const authorization of ['Basic Z29vZDp4', 'Bearer', 'Bearer good extra', 'good']) {
      const res = await fetch(`${emulator!.url}/v1/whoami`, { headers: { authorization } });
      expect(await answer(res)).toEqual({
        status: 401,
        body: { error: 'invalid_token', message: 'Malformed Authorization header: expected Bearer <token>.' },
      });
    }
  });

  it('answers 401 token_expired for a token whose expiresAt has passed', async () => {
    await start({ tokens: [{ token: 'old', username: 'bob', expiresAt: '2023-01-31T12:00:00.000Z' }] });
    const res = await whoami('old');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await res.json()).toEqual({
      error: 'token_expired',
      message: 'token expired on 2023-01-31T12:00:00.000Z',
    });
  });

  it('expires a token when the clock reaches its expiresAt, not before', async () => {
    await start();
    const { token, expiresAt } = emulator!.addToken({ expiresAt: new Date(START + 1000).toISOString() });
    expect((await whoami(token)).status).toBe(200);
    clock.advance(999);
    expect((await whoami(token)).status).toBe(200);
    clock.advance(1);
    expect(await answer(await whoami(token))).toEqual({
      status: 401,
      body: { error: 'token_expired', message: `token expired on ${expiresAt}` },
    });
  });

  it('answers invalid_token, not token_expired, for a token both revoked and expired', async () => {
    await start({ tokens: [{ token: 'gone', expiresAt: '2020-01-01T00:00:00Z', revoked: true }] });
    expect(((await (await whoami('gone')).json()) as { error: string }).error).toBe('invalid_token');
  });

  it('answers 404 JSON for any other path or method, before looking at the token', async () => {
    await start({ tokens: [{ token: 'good' }] });
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/v1/whoami/'],
      ['GET', '/v2/whoami'],
      ['POST', '/v1/whoami'],
      ['DELETE', '/v1/whoami'],
    ] as const) {
      const res = await fetch(`${emulator!.url}${path}`, {
        method,
        body: method === 'POST' ? '{"x":1}' : undefined,
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({ error: 'not_found', message: `No route for ${method} ${path}.` });
    }
    expect(emulator!.requests.map((r) => r.route)).toEqual(['other', 'other', 'other', 'other', 'other']);
  });

  it('validates addToken input', async () => {
    await start({ tokens: [{ token: 'taken' }] });
    expect(() => emulator!.addToken({ token: 'taken' })).toThrow(/already exists/);
    expect(() => emulator!.addToken({ token: '' })).toThrow(/non-empty/);
    expect(() => emulator!.addToken({ token: 'has space' })).toThrow(/whitespace/);
    expect(() => emulator!.addToken({ username: '' })).toThrow(/username/);
    expect(() => emulator!.addToken({ expiresAt: 'next tuesday' })).toThrow(/not a date/);
    await expect(startNanoctlEmulator({ tokens: [{ token: 'a' }, { token: 'a' }] })).rejects.toThrow(
      /already exists/,
    );
  });
});

describe('nanoctl emulator: request log', () => {
  it('records time by the clock, method, path with query, route, lower-cased headers and status', async () => {
    await start({ tokens: [{ token: 'good' }] });
    await fetch(`${emulator!.url}/v1/whoami?x=1`, {
      headers: { Authorization: 'Bearer good', 'X-Client-Name': 'latchkey' },
    });
    clock.advance(5000);
    await whoami('bad');
    await fetch(`${emulator!.url}/nope`);
    const [first, second, third] = emulator!.requests;
    expect(first).toMatchObject({
      at: START,
      method: 'GET',
      path: '/v1/whoami?x=1',
      route: 'whoami',
      status: 200,
    });
    expect(first!.headers).toMatchObject({ authorization: 'Bearer good', 'x-client-name': 'latchkey' });
    expect(second).toMatchObject({ at: START + 5000, route: 'whoami', status: 401 });
    expect(third).toMatchObject({ path: '/nope', route: 'other', status: 404 });
  });

  it('calls onRequest once each request is answered', async () => {
    const seen: Array<[string, number]> = [];
    let bothSeen!: () => void;
    const both = new Promise<void>((resolve) => (bothSeen = resolve));
    await start({
      tokens: [{ token: 'good' }],
      onRequest: (r) => {
        seen.push([r.path, r.status]);
        if (seen.length === 2) bothSeen();
      },
    });
    await (await whoami('good')).text();
    await (await fetch(`${emulator!.url}/x`)).text();
    await both;
    expect(seen).toEqual([
      ['/v1/whoami', 200],
      ['/x', 404],
    ]);
  });
});

describe('nanoctl emulator: faults', () => {
  it('status: answers the given status, body and headers, before auth, then goes back to normal', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({
      route: 'whoami',
      kind: 'status',
      status: 429,
      body: { error: 'rate_limited' },
      headers: { 'retry-after': '7' },
    });
    const limited = await whoami(); // no token at all: the fault still applies
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('content-type')).toBe('application/json');
    expect(await limited.json()).toEqual({ error: 'rate_limited' });
    expect(emulator!.requests[0]!.status).toBe(429);
    expect((await whoami('good')).status).toBe(200);
  });

  it('status: defaults the body from the status text, and sends a string body as text', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'status', status: 503 });
    emulator!.faults.add({ route: 'whoami', kind: 'status', status: 500, body: 'oops' });
    expect(await answer(await whoami('good'))).toEqual({
      status: 503,
      body: { error: 'service_unavailable' },
    });
    const text = await whoami('good');
    expect(text.status).toBe(500);
    expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await text.text()).toBe('oops');
  });

  it('html: answers a proxy error page', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'html', status: 502 });
    const res = await whoami('good');
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('<h1>502 Bad Gateway</h1>');
  });

  it('empty: answers the status with no body', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'empty', status: 200 });
    const res = await whoami('good');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
    await expect(whoami('good').then((r) => r.json())).resolves.toEqual({
      username: 'dev-user',
      expiresAt: expect.any(String) as unknown,
    });
  });

  it('delay: holds the answer, then answers normally (or applies the next fault)', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'delay', ms: 60 });
    const t0 = Date.now();
    const res = await whoami('good');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(50);
    expect(res.status).toBe(200);

    emulator!.faults.add({ route: 'whoami', kind: 'delay', ms: 10 });
    emulator!.faults.add({ route: 'whoami', kind: 'status', status: 504 });
    expect((await whoami('good')).status).toBe(504);
  });

  it('delay: a client timeout fires while the emulator holds the answer', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'delay', ms: 2000 });
    await expect(whoami('good', { signal: AbortSignal.timeout(50) })).rejects.toThrow();
  });

  it('drop: resets the connection and logs status 0', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'drop' });
    await expect(whoami('good')).rejects.toThrow(TypeError);
    expect(emulator!.requests[0]!.status).toBe(0);
    expect((await whoami('good')).status).toBe(200);
  });

  it('times, order, route matching and clear', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'status', status: 500, times: 2 });
    emulator!.faults.add({ route: '*', kind: 'status', status: 418 });
    // A 404 route is not 'whoami': it skips the first fault and takes the '*' one.
    expect((await fetch(`${emulator!.url}/elsewhere`)).status).toBe(418);
    expect((await whoami('good')).status).toBe(500);
    expect((await whoami('good')).status).toBe(500);
    expect((await whoami('good')).status).toBe(200);
    expect((await fetch(`${emulator!.url}/elsewhere`)).status).toBe(404);

    emulator!.faults.add({ route: '*', kind: 'status', status: 500, times: 5 });
    emulator!.faults.clear();
    expect((await whoami('good')).status).toBe(200);
  });

  it('close() is idempotent and does not wait for a pending delay', async () => {
    await start({ tokens: [{ token: 'good' }] });
    emulator!.faults.add({ route: 'whoami', kind: 'delay', ms: 60_000 });
    const pending = whoami('good').catch((error: unknown) => error);
    await eventually(() => emulator!.requests.length > 0, 'the held request to arrive');
    const t0 = Date.now();
    await Promise.all([emulator!.close(), emulator!.close()]);
    expect(Date.now() - t0).toBeLessThan(10_000); // waiting for the delay would take 60 s
    expect(await pending).toBeInstanceOf(Error);
  });
});
