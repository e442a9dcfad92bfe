import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '@latchkey/http';
import type { Clock } from '@latchkey/clock';
import type { Verification } from '@latchkey/polling';
import { deviceCodeLogin, deviceCodeGrantType, type Rfc8628Endpoints } from './rfc8628.js';

interface Hit {
  at: number;
  path: string;
  contentType: string;
  body: string;
}

const servers: Array<ReturnType<typeof createServer>> = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

function fakeClock(): Clock {
  let now = 0;
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

type Answer = { status: number; body: unknown; type?: string } | 'drop';
// A string body is sent as it is, as an HTML page: what a proxy in front of a failing server answers.

/** A scripted RFC 8628 server: the device endpoint answers `device`, the token endpoint answers `tokens` in order. */
async function serve(clock: Clock, device: Answer, tokens: Answer[]) {
  const hits: Hit[] = [];
  let t = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({
        at: clock.now(),
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body,
      });
      const answer = req.url === '/device' ? device : tokens[Math.min(t++, tokens.length - 1)]!;
      if (answer === 'drop') return req.socket.destroy();
      if (typeof answer.body === 'string') {
        return void res
          .writeHead(answer.status, { 'content-type': answer.type ?? 'text/html' })
          .end(answer.body);
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, hits, tokenHits: () => hits.filter((h) => h.path === '/token') };
}

const code = {
  device_code: 'dc-secret-0123456789',
  user_code: 'WDJBMJHT',
  verification_uri: 'https://x/device',
  expires_in: 60,
  interval: 5,
};
const err = (error: string, extra: object = {}) => ({ status: 400, body: { error, ...extra } });
const granted = {
  status: 200,
  body: { access_token: 'at-secret-0123456789', token_type: 'Bearer', expires_in: 604800 },
};

async function login(
  device: Answer,
  tokens: Answer[],
  encoding: 'json' | 'form' = 'json',
  more: Partial<Rfc8628Endpoints> = {},
) {
  const clock = fakeClock();
  const server = await serve(clock, device, tokens);
  const endpoints: Rfc8628Endpoints = {
    deviceAuthorizationUrl: new URL(`${server.url}/device`),
    tokenUrl: new URL(`${server.url}/token`),
    clientId: 'cli',
    encoding,
    ...more,
  };
  const shown: Verification[] = [];
  const trouble: string[] = [];
  const result = deviceCodeLogin(endpoints, {
    http: new HttpClient({ clientName: 'latchkey', clientVersion: '0', clock }),
    clock,
    signal: new AbortController().signal,
    onVerification: (v) => void shown.push(v),
    onTrouble: (error) => void trouble.push(error.code),
  });
  return { result, server, shown, trouble, pollTimes: () => server.tokenHits().map((h) => h.at) };
}

describe('deviceCodeLogin (RFC 8628)', () => {
  it('sends the device-code grant as JSON and returns the token', async () => {
    const s = await login({ status: 200, body: code }, [err('authorization_pending'), granted]);
    await expect(s.result).resolves.toMatchObject({
      access_token: 'at-secret-0123456789',
      expires_in: 604800,
    });
    expect(s.pollTimes()).toEqual([5000, 10000]);
    const poll = s.server.tokenHits()[0]!;
    expect(poll.contentType).toBe('application/json');
    expect(JSON.parse(poll.body)).toEqual({
      grant_type: deviceCodeGrantType,
      device_code: code.device_code,
      client_id: 'cli',
    });
    expect(s.shown[0]?.userCode).toBe('WDJBMJHT');
  });

  it('form-encodes for standard servers', async () => {
    const s = await login({ status: 200, body: code }, [granted], 'form');
    await s.result;
    expect(s.server.hits.map((h) => h.contentType)).toEqual([
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded',
    ]);
    expect(new URLSearchParams(s.server.tokenHits()[0]!.body).get('grant_type')).toBe(deviceCodeGrantType);
  });

  it('slow_down adds 5 s for every later poll', async () => {
    const s = await login({ status: 200, body: code }, [
      err('slow_down'),
      err('authorization_pending'),
      granted,
    ]);
    await s.result;
    expect(s.pollTimes()).toEqual([5000, 15000, 25000]);
  });

  it('access_denied stops: "the request was denied", exit 4', async () => {
    const s = await login({ status: 200, body: code }, [err('access_denied')]);
    await expect(s.result).rejects.toMatchObject({
      code: 'ACCESS_DENIED',
      message: 'The request was denied.',
      exitCode: 4,
    });
  });

  it('expired_token stops: "the code expired", exit 4', async () => {
    const s = await login({ status: 200, body: code }, [err('expired_token')]);
    await expect(s.result).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
  });

  it('invalid_grant stops with the server words, exit 4', async () => {
    const s = await login({ status: 200, body: code }, [
      err('invalid_grant', { error_description: 'Invalid device code' }),
    ]);
    await expect(s.result).rejects.toMatchObject({
      code: 'OAUTH_INVALID_GRANT',
      exitCode: 4,
      message: expect.stringContaining('Invalid device code'),
    });
  });

  it('an error body without an error field (better-auth VALIDATION_ERROR) stops with its message', async () => {
    const s = await login({ status: 200, body: code }, [
      { status: 400, body: { message: 'device_code is required', code: 'VALIDATION_ERROR' } },
    ]);
    await expect(s.result).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      message: expect.stringContaining('device_code is required'),
    });
  });

  it('an unknown client id is a clear error before any poll', async () => {
    const s = await login(err('invalid_client', { error_description: 'Invalid client ID' }), [granted]);
    await expect(s.result).rejects.toMatchObject({
      code: 'INVALID_CLIENT',
      exitCode: 2,
      message: expect.stringContaining('"cli"'),
    });
    expect(s.server.tokenHits()).toEqual([]);
  });

  it('403 unauthorized_client for an unknown client id is the same clear error, also form-encoded', async () => {
    for (const answer of [
      { status: 403, body: { error: 'unauthorized_client', error_description: 'unknown client' } },
      { status: 403, type: 'application/x-www-form-urlencoded', body: 'error=unauthorized_client' },
    ]) {
      const s = await login(answer, [granted], 'form', { invalidClientAction: 'Check the client id.' });
      await expect(s.result).rejects.toMatchObject({
        code: 'INVALID_CLIENT',
        exitCode: 2,
        status: 403,
        message: expect.stringMatching(
          /does not accept the client id "cli": (unknown client|unauthorized_client)\.$/,
        ),
        action: 'Check the client id.',
      });
      expect(s.server.tokenHits()).toEqual([]);
    }
  });

  it('invalid_scope (none sent, or the wrong one) is exit 2 saying to pass --scope, before any poll', async () => {
    const none = await login(err('invalid_scope', { error_description: 'scope is required' }), [granted]);
    await expect(none.result).rejects.toMatchObject({
      code: 'OAUTH_INVALID_SCOPE',
      exitCode: 2,
      message: expect.stringContaining('refused the scope (none was sent): scope is required.'),
      action: expect.stringContaining('--scope'),
    });
    expect(none.server.tokenHits()).toEqual([]);
    const wrong = await login(err('invalid_scope'), [granted], 'form', {
      scope: 'email',
      invalidScopeAction: 'Pass --scope.',
    });
    await expect(wrong.result).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('refused the scope "email": invalid_scope.'),
      action: 'Pass --scope.',
    });
    // At the token endpoint too (a server that checks the scope when it issues the token).
    const late = await login({ status: 200, body: code }, [err('invalid_scope')]);
    await expect(late.result).rejects.toMatchObject({ code: 'OAUTH_INVALID_SCOPE', exitCode: 2 });
  });

  it('a dropped connection backs off (x1.5), is reported once, and does not give up early', async () => {
    const s = await login({ status: 200, body: code }, ['drop', 'drop', granted]);
    await s.result;
    expect(s.pollTimes()).toEqual([5000, 10000, 17500]);
    expect(s.trouble).toEqual(['NETWORK_ERROR']);
  });

  it('stops by itself at expires_in (at least 30 s, whatever the server says)', async () => {
    const s = await login({ status: 200, body: { ...code, expires_in: 12 } }, [err('authorization_pending')]);
    await expect(s.result).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(s.pollTimes()).toEqual([5000, 10000, 15000, 20000, 25000]);
  });

  it('a server that keeps failing ends the login with its problem after 5 polls: exit 1, not "expired"', async () => {
    const s = await login({ status: 200, body: code }, [{ status: 503, body: '<html>' }]);
    await expect(s.result).rejects.toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      exitCode: 1,
      message: expect.stringContaining('HTTP 503'),
    });
    expect(s.pollTimes()).toHaveLength(5);
    expect(s.trouble).toEqual(['UNEXPECTED_RESPONSE']);
  });

  it('a server without expires_in gets 10 minutes; an interval of 3e9 s is polled every 60 s', async () => {
    const { expires_in: _, ...noExpiry } = code;
    const s = await login({ status: 200, body: { ...noExpiry, interval: 3e9 } }, [
      err('authorization_pending'),
      granted,
    ]);
    await s.result;
    expect(s.pollTimes()).toEqual([60000, 120000]);
    expect(s.shown[0]?.expiresAt).toBe(600_000);
  });

  it.each([
    ['plain http to another host', { verification_uri: 'http://evil.example/device' }],
    ['a javascript: address', { verification_uri: 'javascript:alert(1)' }],
    ['a file: address', { verification_uri: 'file:///etc/passwd' }],
    ['credentials in the address', { verification_uri: 'https://user:pw@x.example/device' }],
    ['not a URL', { verification_uri: 'open this page' }],
    ['an unsafe complete address', { verification_uri_complete: 'http://10.0.0.1/device?code=X' }],
  ])('%s: UNSAFE_VERIFICATION_URI (exit 1) before anything is shown or polled', async (_name, over) => {
    const s = await login({ status: 200, body: { ...code, ...over } }, [granted]);
    await expect(s.result).rejects.toMatchObject({
      code: 'UNSAFE_VERIFICATION_URI',
      exitCode: 1,
      message: expect.stringMatching(
        /^127\.0\.0\.1:\d+ sent an unsafe verification address \(verification_uri/,
      ),
    });
    expect(s.shown).toEqual([]);
    expect(s.server.tokenHits()).toEqual([]);
  });

  it('accepts an http:// verification address on loopback', async () => {
    const s = await login(
      { status: 200, body: { ...code, verification_uri: 'http://localhost:3000/device' } },
      [granted],
    );
    await s.result;
    expect(s.shown[0]?.verificationUri).toBe('http://localhost:3000/device');
  });
});
