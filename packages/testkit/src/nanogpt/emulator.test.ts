import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from '@latchkey/conformance/tools';
import { startNanoGptEmulator, type NanoGptEmulator, type NanoGptEmulatorOptions } from './emulator.js';

interface StartBody {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

let emulator: NanoGptEmulator | undefined;
let clock: FakeClock;

async function start(options: NanoGptEmulatorOptions = {}): Promise<NanoGptEmulator> {
  clock = createFakeClock(1_700_000_000_000);
  emulator = await startNanoGptEmulator({ clock, ...options });
  return emulator;
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function postJson(path: string, body?: unknown): Promise<Response> {
  return fetch(`${emulator!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function login(clientName?: string): Promise<StartBody> {
  const res = await postJson(
    '/api/cli-login/start',
    clientName === undefined ? {} : { client_name: clientName },
  );
  expect(res.status).toBe(200);
  return (await res.json()) as StartBody;
}

async function poll(deviceCode: string): Promise<{ status: number; body: unknown }> {
  const res = await postJson('/api/cli-login/poll', { device_code: deviceCode });
  return { status: res.status, body: await res.json() };
}

function models(headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator!.url}/api/v1/models`, { headers });
}

function verifyForm(code: string, decision: string): Promise<Response> {
  return fetch(`${emulator!.url}/cli-login/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ code, decision }).toString(),
  });
}

describe('NanoGPT emulator: start', () => {
  it('answers the documented fields, on 127.0.0.1', async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const body = await login('latchkey');
    expect(body.user_code).toMatch(/^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}$/);
    expect(body.device_code.length).toBeGreaterThanOrEqual(32);
    expect(body.verification_uri).toBe(`${url}/cli-login/verify`);
    expect(body.verification_uri_complete).toBe(`${url}/cli-login/verify?code=${body.user_code}`);
    expect(body.expires_in).toBe(600);
    expect(body.interval).toBe(2);
    expect(emulator!.deviceCodes()).toEqual([body.device_code]);
    expect(emulator!.userCodes()).toEqual([body.user_code]);
  });

  it('takes interval and expiresIn from the options, and works without a body', async () => {
    await start({ interval: 5, expiresIn: 30 });
    const res = await fetch(`${emulator!.url}/api/cli-login/start`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ interval: 5, expires_in: 30 });
  });

  it('accepts a 64-character client_name and rejects a longer one with a JSON 400', async () => {
    await start();
    expect((await postJson('/api/cli-login/start', { client_name: 'a'.repeat(64) })).status).toBe(200);
    const res = await postJson('/api/cli-login/start', { client_name: 'a'.repeat(65) });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('rejects a body that is not a JSON object', async () => {
    await start();
    const res = await fetch(`${emulator!.url}/api/cli-login/start`, {
      method: 'POST',
      body: 'client_name=x',
    });
    expect(res.status).toBe(400);
  });
});

describe('NanoGPT emulator: poll', () => {
  it('is pending, then approved exactly once, then consumed', async () => {
    await start();
    const code = await login('latchkey');
    expect(await poll(code.device_code)).toEqual({ status: 202, body: { status: 'authorization_pending' } });
    emulator!.approve(code.user_code);
    const approved = await poll(code.device_code);
    expect(approved.status).toBe(200);
    const key = (approved.body as { key: string }).key;
    expect(approved.body).toEqual({ status: 'approved', key });
    expect(key).toMatch(/^sk-nano-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(await poll(code.device_code)).toEqual({ status: 409, body: { status: 'consumed' } });
    expect(emulator!.issuedKeys()).toEqual([key]);
  });

  it('expires by the clock after expires_in', async () => {
    await start();
    const code = await login();
    clock.advance(599_999);
    expect((await poll(code.device_code)).status).toBe(202);
    clock.advance(1);
    expect(await poll(code.device_code)).toEqual({ status: 410, body: { status: 'expired' } });
    expect(() => emulator!.approve(code.user_code)).toThrow(/expired/);
  });

  it('answers 404 invalid_code for an unknown device code, 400 for a missing one', async () => {
    await start();
    expect(await poll('not-a-code')).toEqual({ status: 404, body: { error: 'invalid_code' } });
    expect((await postJson('/api/cli-login/poll', {})).status).toBe(400);
  });

  it('answers a denied code with 410 expired', async () => {
    await start();
    const code = await login();
    emulator!.deny(code.user_code);
    expect(await poll(code.device_code)).toEqual({ status: 410, body: { status: 'expired' } });
    expect(emulator!.issuedKeys()).toEqual([]);
  });

  it('approves by itself after N polls when autoApproveAfterPolls is set', async () => {
    await start({ autoApproveAfterPolls: 2 });
    const code = await login();
    expect((await poll(code.device_code)).status).toBe(202);
    expect((await poll(code.device_code)).status).toBe(202);
    expect((await poll(code.device_code)).status).toBe(200);
  });

  it('throws when approving an unknown user code', async () => {
    await start();
    expect(() => emulator!.approve('ZZZZ-ZZZZ')).toThrow(/unknown/);
  });
});

describe('NanoGPT emulator: keys', () => {
  async function loginAndGetKey(clientName?: string): Promise<string> {
    const code = await login(clientName);
    emulator!.approve(code.user_code);
    return ((await poll(code.device_code)).body as { key: string }).key;
  }

  it('reuses the key of the same client_name and names it CLI (<client_name>)', async () => {
    await start();
    const first = await loginAndGetKey('latchkey');
    const again = await loginAndGetKey('latchkey');
    const other = await loginAndGetKey('other');
    const unnamed = await loginAndGetKey();
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(emulator!.issuedKeys()).toEqual([first, other, unnamed]);
    expect(emulator!.issuedKeyDetails()).toEqual([
      { key: first, name: 'CLI (latchkey)', revoked: false },
      { key: other, name: 'CLI (other)', revoked: false },
      { key: unnamed, name: 'CLI (CLI)', revoked: false },
    ]);
  });

  it('accepts a valid key as Bearer or X-API-Key on /api/v1/models', async () => {
    await start();
    const key = await loginAndGetKey('latchkey');
    for (const headers of [{ authorization: `Bearer ${key}` }, { 'x-api-key': key }] as Record<
      string,
      string
    >[]) {
      const res = await models(headers);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string }> };
      expect(body.object).toBe('list');
      expect(body.data.length).toBeGreaterThan(0);
      expect(body.data[0]).toMatchObject({ object: 'model' });
    }
  });

  it('answers 401 JSON for a missing, unknown or revoked key', async () => {
    await start();
    const key = await loginAndGetKey('latchkey');
    const missing = await models();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toContain('application/json');
    expect(
      (await models({ authorization: 'Bearer sk-nano-00000000-0000-4000-8000-000000000000' })).status,
    ).toBe(401);
    emulator!.revokeKey(key);
    expect((await models({ authorization: `Bearer ${key}` })).status).toBe(401);
    expect(emulator!.issuedKeyDetails()[0]?.revoked).toBe(true);
    // A revoked key is not reused: the next login for that client_name gets a new one.
    const fresh = await loginAndGetKey('latchkey');
    expect(fresh).not.toBe(key);
  });

  it('accepts pre-provisioned keys, legacy bare UUIDs included', async () => {
    const legacy = '3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';
    await start({ keys: ['sk-nano-preset', legacy] });
    expect((await models({ authorization: 'Bearer sk-nano-preset' })).status).toBe(200);
    expect((await models({ 'x-api-key': legacy })).status).toBe(200);
  });
});

describe('NanoGPT emulator: browser approval page', () => {
  it('shows the code with Approve and Deny, never the device code', async () => {
    await start();
    const code = await login('latchkey');
    const res = await fetch(code.verification_uri_complete);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain(code.user_code);
    expect(html).toContain('Approve');
    expect(html).toContain('Deny');
    expect(html).toMatch(/<form method="post" action="\/cli-login\/verify">/);
    expect(html).not.toContain(code.device_code);
  });

  it('approves through the form', async () => {
    await start();
    const code = await login();
    const res = await verifyForm(code.user_code, 'approve');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Approved. You can close this window and return to your terminal.');
    expect(html).not.toContain(code.device_code);
    expect((await poll(code.device_code)).status).toBe(200);
  });

  it('denies through the form', async () => {
    await start();
    const code = await login();
    expect((await verifyForm(code.user_code, 'deny')).status).toBe(200);
    expect((await poll(code.device_code)).status).toBe(410);
  });

  it('answers 404 HTML for an unknown code', async () => {
    await start();
    const res = await fetch(`${emulator!.url}/cli-login/verify?code=ZZZZ-ZZZZ`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect((await verifyForm('ZZZZ-ZZZZ', 'approve')).status).toBe(404);
  });
});

describe('NanoGPT emulator: rate limits', () => {
  it('limits /start to 10 a minute per IP with Retry-After until the window frees up', async () => {
    await start();
    for (let i = 0; i < 10; i++) expect((await postJson('/api/cli-login/start', {})).status).toBe(200);
    const limited = await postJson('/api/cli-login/start', {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    expect(await limited.json()).toEqual({ error: 'rate_limited' });
    clock.advance(45_000);
    const still = await postJson('/api/cli-login/start', {});
    expect(still.status).toBe(429);
    expect(still.headers.get('retry-after')).toBe('15');
    clock.advance(15_000);
    expect((await postJson('/api/cli-login/start', {})).status).toBe(200);
  });

  it('limits /poll separately, with configurable limits', async () => {
    await start({ rateLimits: { startPerWindow: 5, pollPerWindow: 2, windowMs: 10_000 } });
    const code = await login();
    expect((await poll(code.device_code)).status).toBe(202);
    expect((await poll(code.device_code)).status).toBe(202);
    const limited = await postJson('/api/cli-login/poll', { device_code: code.device_code });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('10');
    clock.advance(10_000);
    expect((await poll(code.device_code)).status).toBe(202);
  });

  it('can be turned off', async () => {
    await start({ rateLimits: false });
    for (let i = 0; i < 12; i++) expect((await postJson('/api/cli-login/start', {})).status).toBe(200);
  });
});

describe('NanoGPT emulator: faults', () => {
  it('status: answers the given status, body and headers, `times` times, then normally', async () => {
    await start();
    const code = await login();
    emulator!.faults.add({
      route: 'poll',
      kind: 'status',
      status: 429,
      headers: { 'retry-after': '3' },
      times: 2,
    });
    for (let i = 0; i < 2; i++) {
      const res = await postJson('/api/cli-login/poll', { device_code: code.device_code });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('3');
    }
    expect((await poll(code.device_code)).status).toBe(202);
    emulator!.faults.add({ route: 'poll', kind: 'status', status: 500, body: { error: 'boom' } });
    expect(await poll(code.device_code)).toEqual({ status: 500, body: { error: 'boom' } });
  });

  it('html: answers a CDN-style HTML error page', async () => {
    await start();
    emulator!.faults.add({ route: 'start', kind: 'html', status: 502 });
    const res = await postJson('/api/cli-login/start', {});
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('502 Bad Gateway');
  });

  it('empty: answers an empty body', async () => {
    await start();
    emulator!.faults.add({ route: 'models', kind: 'empty', status: 503 });
    const res = await models();
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('');
  });

  it('delay: waits in real time, then answers normally', async () => {
    await start();
    emulator!.faults.add({ route: 'start', kind: 'delay', ms: 80 });
    const started = performance.now();
    const res = await postJson('/api/cli-login/start', {});
    expect(performance.now() - started).toBeGreaterThanOrEqual(70);
    expect(res.status).toBe(200);
  });

  it('drop: resets the connection without answering, recorded as status 0', async () => {
    await start();
    emulator!.faults.add({ route: 'start', kind: 'drop' });
    await expect(postJson('/api/cli-login/start', {})).rejects.toThrow();
    expect(emulator!.requests.at(-1)).toMatchObject({ route: 'start', status: 0 });
    expect((await postJson('/api/cli-login/start', {})).status).toBe(200);
  });

  it('expire: the code being polled expires now', async () => {
    await start();
    const code = await login();
    emulator!.faults.add({ route: 'poll', kind: 'expire' });
    expect(await poll(code.device_code)).toEqual({ status: 410, body: { status: 'expired' } });
    expect((await poll(code.device_code)).status).toBe(410);
  });

  it('are consumed in order, first matching route, `*` matching any route; clear() drops them', async () => {
    await start();
    emulator!.faults.add({ route: 'poll', kind: 'status', status: 500 });
    emulator!.faults.add({ route: '*', kind: 'status', status: 503 });
    emulator!.faults.add({ route: 'start', kind: 'status', status: 504 });
    expect((await postJson('/api/cli-login/start', {})).status).toBe(503);
    expect((await postJson('/api/cli-login/start', {})).status).toBe(504);
    expect((await postJson('/api/cli-login/poll', { device_code: 'x' })).status).toBe(500);
    emulator!.faults.add({ route: '*', kind: 'status', status: 500, times: 5 });
    emulator!.faults.clear();
    expect((await postJson('/api/cli-login/start', {})).status).toBe(200);
  });
});

describe('NanoGPT emulator: request log', () => {
  it('records every request with the clock time, lower-cased headers, parsed body and status', async () => {
    await start();
    const code = await login('latchkey');
    clock.advance(2000);
    await fetch(`${emulator!.url}/api/cli-login/poll`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client': 'test' },
      body: JSON.stringify({ device_code: code.device_code }),
    });
    await fetch(`${emulator!.url}/nope`);
    const [first, second, third] = emulator!.requests;
    expect(first).toMatchObject({
      at: 1_700_000_000_000,
      method: 'POST',
      path: '/api/cli-login/start',
      route: 'start',
      body: { client_name: 'latchkey' },
      status: 200,
    });
    expect(second).toMatchObject({
      at: 1_700_000_002_000,
      route: 'poll',
      body: { device_code: code.device_code },
      status: 202,
    });
    expect(second?.headers['x-client']).toBe('test');
    expect(second?.headers['content-type']).toBe('application/json');
    expect(third).toMatchObject({
      method: 'GET',
      path: '/nope',
      route: 'other',
      status: 404,
      body: undefined,
    });
  });

  it('answers anything else with a JSON 404', async () => {
    await start();
    const res = await fetch(`${emulator!.url}/api/cli-login/start`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found' });
  });
});

describe('NanoGPT emulator: lifecycle', () => {
  it('reports events and closes even with a request held by a delay', async () => {
    const events: string[] = [];
    await start({ onEvent: (event) => events.push(event.type) });
    const code = await login();
    emulator!.approve(code.user_code);
    await poll(code.device_code);
    expect(events).toEqual(['code-issued', 'key-created', 'approved', 'key-delivered']);
    emulator!.faults.add({ route: 'start', kind: 'delay', ms: 60_000 });
    const held = postJson('/api/cli-login/start', {}).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await emulator!.close();
    expect(await held).toBeInstanceOf(Error);
  });
});
