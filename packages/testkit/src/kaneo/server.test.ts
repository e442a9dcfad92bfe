/**
 * Protocol facts of a real better-auth 1.6.25 server configured like Kaneo, driven with plain fetch. The
 * latchkey Kaneo plugin is written against exactly these answers.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { timeBound } from '@latchkey/conformance/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKaneoServer, type KaneoServer, type KaneoUser } from './server.js';

const GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const USER_CODE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/;

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

interface IssuedCode {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function send(
  server: KaneoServer,
  method: string,
  path: string,
  init: { json?: unknown; form?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = init.form;
  }
  const response = await fetch(`${server.url}/api/auth${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

async function issue(server: KaneoServer, clientId = 'kaneo-cli'): Promise<IssuedCode> {
  const answer = await send(server, 'POST', '/device/code', { json: { client_id: clientId } });
  expect(answer.status).toBe(200);
  return answer.body as IssuedCode;
}

function poll(server: KaneoServer, deviceCode: string, clientId = 'kaneo-cli'): Promise<Answer> {
  return send(server, 'POST', '/device/token', {
    json: { grant_type: GRANT, device_code: deviceCode, client_id: clientId },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function grantError(error: string, description: string) {
  return { status: 400, body: { error, error_description: description } };
}

describe('Kaneo (better-auth 1.6.25) with the defaults Kaneo uses', () => {
  let server: KaneoServer;
  let alice: KaneoUser;
  let startMs = 0;

  beforeAll(async () => {
    const started = performance.now();
    server = await startKaneoServer();
    startMs = performance.now() - started;
    alice = await server.signUp({ email: 'alice@kaneo.test', name: 'Alice' });
  });
  afterAll(() => server.close());

  it('starts quickly on 127.0.0.1', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(startMs).toBeLessThan(timeBound(2000));
  });

  it('1. issues a device code for a JSON body (better-auth defaults: 30 min, 5 s)', async () => {
    const answer = await send(server, 'POST', '/device/code', { json: { client_id: 'kaneo-cli' } });
    expect(answer.status).toBe(200);
    const body = answer.body as IssuedCode;
    expect(Object.keys(body).sort()).toEqual([
      'device_code',
      'expires_in',
      'interval',
      'user_code',
      'verification_uri',
      'verification_uri_complete',
    ]);
    expect(body.device_code).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(body.user_code).toMatch(USER_CODE);
    expect(body.verification_uri).toBe(`${server.url}/device`);
    expect(body.verification_uri_complete).toBe(`${server.url}/device?user_code=${body.user_code}`);
    expect(body.expires_in).toBe(1800);
    expect(body.interval).toBe(5);
    // The route asks for Cache-Control: no-store, but 1.6.25 does not send it.
    expect(answer.headers.get('cache-control')).toBeNull();
    // kaneo-mcp is allowed too, and `scope` is accepted.
    const mcp = await send(server, 'POST', '/device/code', {
      json: { client_id: 'kaneo-mcp', scope: 'a b' },
    });
    expect(mcp.status).toBe(200);
  });

  it('2. refuses a form-encoded body with 415 UNSUPPORTED_MEDIA_TYPE (code and token alike)', async () => {
    const expected = {
      status: 415,
      body: {
        message:
          'Content-Type "application/x-www-form-urlencoded" is not allowed. Allowed types: application/json',
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
    };
    const code = await send(server, 'POST', '/device/code', { form: 'client_id=kaneo-cli' });
    expect({ status: code.status, body: code.body }).toEqual(expected);
    const issued = await issue(server);
    const token = await send(server, 'POST', '/device/token', {
      form: new URLSearchParams({
        grant_type: GRANT,
        device_code: issued.device_code,
        client_id: 'kaneo-cli',
      }).toString(),
    });
    expect({ status: token.status, body: token.body }).toEqual(expected);
  });

  it('3. refuses an unknown client id with 400 invalid_client; a missing one with VALIDATION_ERROR', async () => {
    const unknown = await send(server, 'POST', '/device/code', { json: { client_id: 'someone-else' } });
    expect({ status: unknown.status, body: unknown.body }).toEqual(
      grantError('invalid_client', 'Invalid client ID'),
    );
    const missing = await send(server, 'POST', '/device/code', { json: {} });
    expect({ status: missing.status, body: missing.body }).toEqual({
      status: 400,
      body: {
        message: '[body.client_id] Invalid input: expected string, received undefined',
        code: 'VALIDATION_ERROR',
      },
    });
  });

  it('4. pending, then approved: 200 Bearer token without refresh token; the code is then spent', async () => {
    const issued = await issue(server);
    const pending = await poll(server, issued.device_code);
    expect({ status: pending.status, body: pending.body }).toEqual(
      grantError('authorization_pending', 'Authorization pending'),
    );
    // Polling again within `interval` (5 s here) is slow_down, whatever the state.
    const tooSoon = await poll(server, issued.device_code);
    expect({ status: tooSoon.status, body: tooSoon.body }).toEqual(
      grantError('slow_down', 'Polling too frequently'),
    );

    // A fresh code whose first poll comes after the approval: the first poll is never slow_down.
    const second = await issue(server);
    await server.approve(second.user_code, alice);
    const granted = await poll(server, second.device_code);
    expect(granted.status).toBe(200);
    const token = granted.body as Record<string, unknown>;
    expect(Object.keys(token).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    expect(token.access_token).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(token.token_type).toBe('Bearer');
    // 7 days (better-auth's session lifetime), floored after the session was created: 604799 or 604800.
    expect(token.expires_in).toBeGreaterThanOrEqual(604_790);
    expect(token.expires_in).toBeLessThanOrEqual(604_800);
    expect(token.scope).toBe('');
    expect(granted.headers.get('cache-control')).toBeNull();
    expect(granted.headers.get('set-cookie')).toBeNull();
    expect(granted.headers.get('set-auth-token')).toBeNull();

    // The record is consumed: the next poll (a fresh record would be slow_down; this one is gone).
    const after = await poll(server, second.device_code);
    expect({ status: after.status, body: after.body }).toEqual(
      grantError('invalid_grant', 'Invalid device code'),
    );

    expect(
      server.requests.filter((r) => r.path === '/api/auth/device/token').map((r) => r.grantError),
    ).toEqual(expect.arrayContaining(['authorization_pending', 'slow_down', 'invalid_grant']));
  });

  it('4. scope is echoed back when the code asked for one', async () => {
    const answer = await send(server, 'POST', '/device/code', {
      json: { client_id: 'kaneo-cli', scope: 'read write' },
    });
    const issued = answer.body as IssuedCode;
    await server.approve(issued.user_code, alice);
    const granted = await poll(server, issued.device_code);
    expect(granted.status).toBe(200);
    expect((granted.body as { scope: string }).scope).toBe('read write');
  });

  it('4. denied: 400 access_denied once, then invalid_grant', async () => {
    const issued = await issue(server);
    await server.deny(issued.user_code, alice);
    const denied = await poll(server, issued.device_code);
    expect({ status: denied.status, body: denied.body }).toEqual(
      grantError('access_denied', 'Access denied'),
    );
    const next = await poll(server, issued.device_code);
    expect({ status: next.status, body: next.body }).toEqual(
      grantError('invalid_grant', 'Invalid device code'),
    );
  });

  it('4. bad device code, client mismatch, disallowed client and missing fields', async () => {
    const issued = await issue(server);
    const bad = await poll(server, 'not-a-device-code');
    expect({ status: bad.status, body: bad.body }).toEqual(
      grantError('invalid_grant', 'Invalid device code'),
    );
    // Issued to kaneo-cli, polled as kaneo-mcp (allowed, but not the owner).
    const mismatch = await poll(server, issued.device_code, 'kaneo-mcp');
    expect({ status: mismatch.status, body: mismatch.body }).toEqual(
      grantError('invalid_grant', 'Client ID mismatch'),
    );
    // A client id the server does not allow: invalid_grant (not invalid_client) in 1.6.25.
    const disallowed = await poll(server, issued.device_code, 'someone-else');
    expect({ status: disallowed.status, body: disallowed.body }).toEqual(
      grantError('invalid_grant', 'Invalid client ID'),
    );
    // None of those counted as a poll: the first real poll is not slow_down.
    const first = await poll(server, issued.device_code);
    expect((first.body as { error: string }).error).toBe('authorization_pending');

    const noClient = await send(server, 'POST', '/device/token', {
      json: { grant_type: GRANT, device_code: issued.device_code },
    });
    expect({ status: noClient.status, body: noClient.body }).toEqual({
      status: 400,
      body: {
        message: '[body.client_id] Invalid input: expected string, received undefined',
        code: 'VALIDATION_ERROR',
      },
    });
    const wrongGrant = await send(server, 'POST', '/device/token', {
      json: { grant_type: 'device_code', device_code: issued.device_code, client_id: 'kaneo-cli' },
    });
    expect({ status: wrongGrant.status, body: wrongGrant.body }).toEqual({
      status: 400,
      body: {
        message: '[body.grant_type] Invalid input: expected "urn:ietf:params:oauth:grant-type:device_code"',
        code: 'VALIDATION_ERROR',
      },
    });
    const record = server.requests.at(-1)!;
    expect(record).toMatchObject({ method: 'POST', path: '/api/auth/device/token', status: 400 });
    expect(record.grantError).toBeUndefined();
  });

  it('5. get-session with the device token as Bearer: 200 {session, user}; a bad token: 200 null', async () => {
    const issued = await issue(server);
    await server.approve(issued.user_code, alice);
    const accessToken = ((await poll(server, issued.device_code)).body as { access_token: string })
      .access_token;

    const answer = await send(server, 'GET', '/get-session', {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(answer.status).toBe(200);
    const body = answer.body as { session: Record<string, unknown>; user: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(['session', 'user']);
    expect(Object.keys(body.session).sort()).toEqual([
      'createdAt',
      'expiresAt',
      'id',
      'ipAddress',
      'token',
      'updatedAt',
      'userAgent',
      'userId',
    ]);
    expect(Object.keys(body.user).sort()).toEqual([
      'createdAt',
      'email',
      'emailVerified',
      'id',
      'name',
      'updatedAt',
    ]);
    expect(body.user).toMatchObject({ email: 'alice@kaneo.test', name: 'Alice', emailVerified: false });
    expect(body.session.token).toBe(accessToken);
    expect(body.session.userId).toBe(body.user.id);
    const expiresAt = Date.parse(body.session.expiresAt as string);
    expect(expiresAt - Date.now()).toBeGreaterThan(604_790_000);
    expect(await server.getSession({ bearer: accessToken })).toEqual(
      expect.objectContaining({ user: body.user }),
    );

    const rejectedHeaders: Array<Record<string, string>> = [
      { authorization: 'Bearer not-a-session-token' },
      { authorization: `Bearer ${accessToken.slice(0, -1)}x` },
      { authorization: `Basic ${accessToken}` },
      {},
    ];
    for (const headers of rejectedHeaders) {
      const rejected = await send(server, 'GET', '/get-session', { headers });
      expect({ status: rejected.status, body: rejected.body }).toEqual({ status: 200, body: null });
    }
    expect(await server.getSession({ bearer: 'nope' })).toBeNull();
  });

  it('6. sign-out with Bearer and {}: 200 {"success":true}; the token is revoked', async () => {
    const issued = await issue(server);
    await server.approve(issued.user_code, alice);
    const accessToken = ((await poll(server, issued.device_code)).body as { access_token: string })
      .access_token;

    const out = await send(server, 'POST', '/sign-out', {
      json: {},
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect({ status: out.status, body: out.body }).toEqual({ status: 200, body: { success: true } });
    const after = await send(server, 'GET', '/get-session', {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect({ status: after.status, body: after.body }).toEqual({ status: 200, body: null });
    // Signing out again with the dead token still answers 200 {"success":true}.
    const again = await send(server, 'POST', '/sign-out', {
      json: {},
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { success: true } });
    // The browser session is untouched.
    expect(await server.getSession({ bearer: alice.sessionToken })).not.toBeNull();
  });

  it('7. API keys: 64 letters; x-api-key gives a session; a wrong key is 401, a short one 403', async () => {
    const key = await server.createApiKey(alice, 'latchkey');
    expect(key).toMatch(/^[A-Za-z]{64}$/);

    const answer = await send(server, 'GET', '/get-session', { headers: { 'x-api-key': key } });
    expect(answer.status).toBe(200);
    const body = answer.body as { session: Record<string, unknown>; user: Record<string, unknown> };
    expect(body.user).toMatchObject({ email: 'alice@kaneo.test', name: 'Alice' });
    // The "session" is made up from the key: its token is the key itself.
    expect(body.session.token).toBe(key);
    expect(body.session.userId).toBe(body.user.id);
    // better-auth 1.6.25 quirk: for a key without expiry, expiresAt is now + 604800 *ms* (about 10 min).
    const ttl = Date.parse(body.session.expiresAt as string) - Date.now();
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(605_000);

    const wrong = await send(server, 'GET', '/get-session', {
      headers: { 'x-api-key': `${key.slice(0, -1)}0` },
    });
    expect({ status: wrong.status, body: wrong.body }).toEqual({
      status: 401,
      body: { message: 'Invalid API key.', code: 'INVALID_API_KEY' },
    });
    const short = await send(server, 'GET', '/get-session', { headers: { 'x-api-key': 'too-short' } });
    expect({ status: short.status, body: short.body }).toEqual({
      status: 403,
      body: { message: 'Invalid API key.', code: 'INVALID_API_KEY' },
    });
    // better-auth itself does not take a key as Bearer (Kaneo's REST API middleware does, not tested here).
    const asBearer = await send(server, 'GET', '/get-session', {
      headers: { authorization: `Bearer ${key}` },
    });
    expect({ status: asBearer.status, body: asBearer.body }).toEqual({ status: 200, body: null });

    expect(await server.getSession({ apiKey: key })).toEqual(expect.objectContaining({ user: body.user }));
    expect(await server.getSession({ apiKey: `${key.slice(0, -1)}0` })).toBeNull();
  });

  it('7. an API key is rate limited as Kaneo sets it (100 a minute): 429 RATE_LIMITED, no Retry-After', async () => {
    const key = await server.createApiKey(alice, 'busy');
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`${server.url}/api/auth/get-session`, { headers: { 'x-api-key': key } });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
    }
    const limited = await send(server, 'GET', '/get-session', { headers: { 'x-api-key': key } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeNull();
    expect(limited.body).toEqual({
      message: 'Rate limit exceeded.',
      code: 'RATE_LIMITED',
      details: { tryAgainIn: expect.any(Number) },
    });
    const tryAgainIn = (limited.body as { details: { tryAgainIn: number } }).details.tryAgainIn;
    expect(tryAgainIn).toBeGreaterThan(55_000);
    expect(tryAgainIn).toBeLessThanOrEqual(60_000);
    // A 32-character session token sent as x-api-key is refused as too short: 403, not 401.
    const sessionAsKey = await send(server, 'GET', '/get-session', {
      headers: { 'x-api-key': alice.sessionToken },
    });
    expect({ status: sessionAsKey.status, body: sessionAsKey.body }).toEqual({
      status: 403,
      body: { message: 'Invalid API key.', code: 'INVALID_API_KEY' },
    });
  });

  it('8. the user code: dashes are ignored, case is not; another user cannot approve a claimed code', async () => {
    const dashed = await issue(server);
    await server.approve(`${dashed.user_code.slice(0, 4)}-${dashed.user_code.slice(4)}`, alice);
    expect((await poll(server, dashed.device_code)).status).toBe(200);

    const lower = await issue(server);
    const claim = await send(server, 'GET', `/device?user_code=${lower.user_code.toLowerCase()}`, {
      headers: { authorization: `Bearer ${alice.sessionToken}` },
    });
    expect({ status: claim.status, body: claim.body }).toEqual(
      grantError('invalid_request', 'Invalid user code'),
    );
    await expect(server.approve(lower.user_code.toLowerCase(), alice)).rejects.toThrow(
      /GET \/device for approve failed: 400 .*Invalid user code/,
    );

    // Claiming is per user: GET /device binds the code to the first signed-in caller.
    const bob = await server.signUp();
    const claimed = await issue(server);
    const seen = await send(server, 'GET', `/device?user_code=${claimed.user_code}`, {
      headers: { authorization: `Bearer ${alice.sessionToken}` },
    });
    expect({ status: seen.status, body: seen.body }).toEqual({
      status: 200,
      body: { user_code: claimed.user_code, status: 'pending' },
    });
    await expect(server.approve(claimed.user_code, bob)).rejects.toThrow(
      /POST \/device\/approve failed: 403 .*access_denied/,
    );
    // Approving without GET /device first: refused as not claimed.
    const unclaimed = await issue(server);
    const direct = await send(server, 'POST', '/device/approve', {
      json: { userCode: unclaimed.user_code },
      headers: { authorization: `Bearer ${alice.sessionToken}` },
    });
    expect(direct.status).toBe(400);
    expect(direct.body).toMatchObject({ error: 'invalid_request' });
    // Approving twice: the second is refused.
    await server.approve(unclaimed.user_code, alice);
    await expect(server.approve(unclaimed.user_code, alice)).rejects.toThrow(/Device code already processed/);
  });

  it('logs every /api/auth request: path only, body field names only, the grant error', async () => {
    const issued = await issue(server);
    await server.approve(issued.user_code, alice);
    const records = server.requests.slice(-3);
    expect(records.map((r) => [r.method, r.path, r.status])).toEqual([
      ['POST', '/api/auth/device/code', 200],
      ['GET', '/api/auth/device', 200],
      ['POST', '/api/auth/device/approve', 200],
    ]);
    expect(records[0]!.bodyKeys).toEqual(['client_id']);
    expect(records[2]!.bodyKeys).toEqual(['userCode']);
    expect(JSON.stringify(server.requests)).not.toContain(alice.password);
    expect(JSON.stringify(server.requests)).not.toContain(issued.user_code);
    // Outside /api/auth: 404 and not logged.
    const count = server.requests.length;
    expect((await fetch(`${server.url}/api/tasks`)).status).toBe(404);
    expect(server.requests).toHaveLength(count);
  });
});

describe('Kaneo timing: slow_down (interval 5 s)', () => {
  let server: KaneoServer;
  let alice: KaneoUser;
  beforeAll(async () => {
    server = await startKaneoServer({ interval: 5, deviceExpiresIn: 60 });
    alice = await server.signUp();
  });
  afterAll(() => server.close());

  it('slow_down is measured from the last poll that was not itself slow_down', async () => {
    const issued = await issue(server);
    expect(issued).toMatchObject({ interval: 5, expires_in: 60 });
    const t0 = Date.now();
    expect((await poll(server, issued.device_code)).body).toMatchObject({ error: 'authorization_pending' });
    await sleep(400);
    expect((await poll(server, issued.device_code)).body).toMatchObject({ error: 'slow_down' });
    await sleep(400);
    expect((await poll(server, issued.device_code)).body).toMatchObject({ error: 'slow_down' });
    // An interval of 5 s leaves a loaded machine 4 s of slack on each early poll above.
    // 5.1 s after the first poll but well under 5 s after the last slow_down: counted again.
    await sleep(Math.max(0, t0 + 5100 - Date.now()));
    expect((await poll(server, issued.device_code)).body).toMatchObject({ error: 'authorization_pending' });
    // Approved, but polled too soon: slow_down comes first; the token waits for the next poll.
    await server.approve(issued.user_code, alice);
    expect((await poll(server, issued.device_code)).body).toMatchObject({ error: 'slow_down' });
    await sleep(5050);
    expect((await poll(server, issued.device_code)).status).toBe(200);
  });
});

describe('Kaneo expiry (a code expired by the server)', () => {
  let server: KaneoServer;
  let alice: KaneoUser;
  beforeAll(async () => {
    server = await startKaneoServer({ deviceExpiresIn: 120, interval: 0, clientIds: ['my-cli'] });
    alice = await server.signUp();
  });
  afterAll(() => server.close());

  it('an expired code: 400 expired_token once, then invalid_grant; approval is refused', async () => {
    const answer = await send(server, 'POST', '/device/code', { json: { client_id: 'my-cli' } });
    const issued = answer.body as IssuedCode;
    expect(issued).toMatchObject({ expires_in: 120, interval: 0 });
    // Only the configured ids are allowed now.
    expect((await send(server, 'POST', '/device/code', { json: { client_id: 'kaneo-cli' } })).status).toBe(
      400,
    );
    const pending = await poll(server, issued.device_code, 'my-cli');
    expect(pending.body).toMatchObject({ error: 'authorization_pending' });
    // interval 0: no slow_down at all.
    expect((await poll(server, issued.device_code, 'my-cli')).body).toMatchObject({
      error: 'authorization_pending',
    });

    // What 120 s passing does, at once (no race with a short lifetime on a loaded machine).
    expect(server.expire('NO-SUCH-CODE')).toBe(false);
    expect(server.expire(issued.user_code)).toBe(true);
    await expect(server.approve(issued.user_code, alice)).rejects.toThrow(
      /400 .*expired_token.*User code has expired/,
    );
    const expired = await poll(server, issued.device_code, 'my-cli');
    expect({ status: expired.status, body: expired.body }).toEqual(
      grantError('expired_token', 'Device code has expired'),
    );
    const next = await poll(server, issued.device_code, 'my-cli');
    expect({ status: next.status, body: next.body }).toEqual(
      grantError('invalid_grant', 'Invalid device code'),
    );
  });
});

describe('@latchkey/testkit entry points', () => {
  it('the main entry does not reach better-auth', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
    const seen = new Set<string>();
    const pending = [resolve(root, 'index.ts')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(/from\s+'([^']+)'/g)) {
        const specifier = match[1]!;
        expect(specifier).not.toMatch(/better-auth|better-call/);
        if (specifier.startsWith('.'))
          pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      }
    }
    expect([...seen].some((file) => file.includes('kaneo'))).toBe(false);
  });
});
