import { afterEach, describe, expect, it } from 'vitest';
import { createFakeClock, type FakeClock } from './clock.js';
import {
  ACME_DEVICE_GRANT,
  startAcmeEmulator,
  type AcmeEmulator,
  type AcmeEmulatorOptions,
} from './rfc8628-server.js';

let emulator: AcmeEmulator | undefined;
let clock: FakeClock;

async function start(options: AcmeEmulatorOptions = {}): Promise<AcmeEmulator> {
  clock = createFakeClock();
  emulator = await startAcmeEmulator({ clock, ...options });
  return emulator;
}

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

async function post(
  path: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${emulator!.url}${path}`, { method: 'POST', body: new URLSearchParams(fields) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function deviceCode(clientId = 'latchkey') {
  return (await post('/oauth/device/code', { client_id: clientId })).body as {
    device_code: string;
    user_code: string;
    interval: number;
    expires_in: number;
    verification_uri: string;
    verification_uri_complete: string;
  };
}

const poll = (code: string, clientId = 'latchkey') =>
  post('/oauth/token', { grant_type: ACME_DEVICE_GRANT, device_code: code, client_id: clientId });

async function me(token?: string) {
  const res = await fetch(
    `${emulator!.url}/api/me`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
  );
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('acme emulator', () => {
  it('runs an RFC 8628 device login: pending, approve, token, who am I', async () => {
    await start({ interval: 2, expiresIn: 300 });
    const code = await deviceCode();
    expect(code).toMatchObject({ interval: 2, expires_in: 300, verification_uri: `${emulator!.url}/device` });
    expect(code.verification_uri_complete).toBe(`${emulator!.url}/device?user_code=${code.user_code}`);
    expect(await poll(code.device_code)).toMatchObject({
      status: 400,
      body: { error: 'authorization_pending' },
    });
    emulator!.approve(code.user_code, { email: 'ada@acme.example', name: 'Ada' });
    clock.advance(2000);
    const answer = await poll(code.device_code);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const token = answer.body.access_token as string;
    expect(token).toMatch(/^acme_[A-Za-z0-9]{16,}$/);
    expect(emulator!.issuedTokens()).toEqual([token]);
    expect(await me(token)).toEqual({ status: 200, body: { email: 'ada@acme.example', name: 'Ada' } });
    clock.advance(2000);
    expect(await poll(code.device_code)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    clock.advance(3600_000);
    expect((await me(token)).status).toBe(401);
  });

  it('answers slow_down to a poll sooner than the interval, and adds 5 s to it', async () => {
    await start({ interval: 5 });
    const code = await deviceCode();
    expect((await poll(code.device_code)).body.error).toBe('authorization_pending');
    clock.advance(4999);
    expect((await poll(code.device_code)).body.error).toBe('slow_down');
    clock.advance(5000); // now 10 s are required
    expect((await poll(code.device_code)).body.error).toBe('slow_down');
    clock.advance(15_000);
    expect((await poll(code.device_code)).body.error).toBe('authorization_pending');
    expect(emulator!.requests.filter((r) => r.route === 'token').map((r) => r.error)).toEqual([
      'authorization_pending',
      'slow_down',
      'slow_down',
      'authorization_pending',
    ]);
  });

  it('answers access_denied, expired_token and invalid_grant as RFC 8628 section 3.5 says', async () => {
    await start({ interval: 1, expiresIn: 60 });
    const denied = await deviceCode();
    emulator!.deny(denied.user_code);
    expect((await poll(denied.device_code)).body.error).toBe('access_denied');
    const late = await deviceCode();
    clock.advance(60_000);
    expect((await poll(late.device_code)).body.error).toBe('expired_token');
    expect(() => emulator!.approve(late.user_code)).toThrow(/expired/);
    expect((await poll('nope')).body.error).toBe('invalid_grant');
    const other = await deviceCode();
    expect((await poll(other.device_code, 'someone-else')).body.error).toBe('invalid_grant');
  });

  it('auto-approves after N polls', async () => {
    await start({ interval: 1, autoApproveAfterPolls: 1 });
    const code = await deviceCode();
    expect((await poll(code.device_code)).status).toBe(400);
    clock.advance(1000);
    expect((await poll(code.device_code)).status).toBe(200);
  });

  it('is strict: form bodies only, a client id, the device grant type, POST; JSON answers everywhere', async () => {
    await start({ clientIds: ['latchkey'] });
    const json = await fetch(`${emulator!.url}/oauth/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'latchkey' }),
    });
    expect(json.status).toBe(415);
    expect(json.headers.get('content-type')).toBe('application/json');
    expect((await post('/oauth/device/code', {})).status).toBe(400);
    expect(await post('/oauth/device/code', { client_id: 'other' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect((await post('/oauth/token', { grant_type: 'password', client_id: 'latchkey' })).body.error).toBe(
      'unsupported_grant_type',
    );
    expect((await fetch(`${emulator!.url}/oauth/token`)).status).toBe(405);
    const missing = await fetch(`${emulator!.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('serves pre-provisioned tokens and rejects unknown, missing and revoked ones', async () => {
    await start({
      tokens: [
        'acme_0123456789abcdefXYZ',
        { token: 'acme_bobbobbobbobbobbob', email: 'bob@acme.example', name: 'Bob' },
      ],
    });
    expect(await me('acme_0123456789abcdefXYZ')).toEqual({
      status: 200,
      body: { email: 'dev@acme.example', name: 'Acme Developer' },
    });
    expect((await me('acme_bobbobbobbobbobbob')).body).toEqual({ email: 'bob@acme.example', name: 'Bob' });
    expect(await me('acme_unknownunknownunknown')).toMatchObject({
      status: 401,
      body: { error: 'invalid_token' },
    });
    expect((await me()).status).toBe(401);
    emulator!.revokeToken('acme_0123456789abcdefXYZ');
    expect((await me('acme_0123456789abcdefXYZ')).status).toBe(401);
    expect(() => emulator!.addToken('ghp_nope')).toThrow(/acme_/);
    expect(emulator!.addToken()).toMatch(/^acme_[A-Za-z0-9]{24}$/);
  });
});
