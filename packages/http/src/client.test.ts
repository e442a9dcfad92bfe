import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '@latchkey/clock';
import { HttpClient, standardRetry, unexpectedResponse } from './client.js';
import { parseRetryAfter } from './retry-after.js';
import { parseBaseUrl } from './url.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Array<{ close(): void; closeAllConnections(): void }> = [];

async function serve(
  handlers: Handler[],
): Promise<{ url: string; hits: Array<{ headers: IncomingMessage['headers']; body: string }> }> {
  const hits: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ headers: req.headers, body });
      const handler = handlers[Math.min(hits.length - 1, handlers.length - 1)]!;
      handler(req, res);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

function fakeClock(): Clock & { waits: number[] } {
  let now = 1_000_000;
  const waits: number[] = [];
  return { waits, now: () => now, sleep: async (ms) => void (waits.push(ms), (now += ms)) };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const html =
  (status: number): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html' });
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
  };
const html503 =
  (retryAfter: string): Handler =>
  (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/html', 'retry-after': retryAfter });
    res.end('<html><body><h1>503 Service Unavailable</h1></body></html>');
  };
const drop: Handler = (req) => req.socket.destroy();

describe('HttpClient', () => {
  it('sends client identity headers and a JSON body, and parses JSON', async () => {
    const server = await serve([json(200, { ok: true })]);
    const client = new HttpClient({ clientName: 'latchkey', clientVersion: '1.2.3' });
    const res = await client.send({ url: `${server.url}/x`, json: { a: 1 }, bearer: 'tok-123456' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true });
    const { headers, body } = server.hits[0]!;
    expect(headers['x-client-name']).toBe('latchkey');
    expect(headers['x-client-version']).toBe('1.2.3');
    expect(headers['user-agent']).toMatch(/^latchkey\/1\.2\.3 node\//);
    expect(headers.authorization).toBe('Bearer tok-123456');
    expect(JSON.parse(body)).toEqual({ a: 1 });
  });

  it('form-encodes when asked', async () => {
    const server = await serve([json(200, {})]);
    await new HttpClient({ clientName: 'l', clientVersion: '0' }).send({
      url: server.url,
      form: { a: 'b c' },
    });
    expect(server.hits[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(server.hits[0]!.body).toBe('a=b+c');
  });

  it('turns an HTML page into a clear error, not a crash', async () => {
    const server = await serve([html(502)]);
    const res = await new HttpClient({ clientName: 'l', clientVersion: '0' }).send({ url: server.url });
    expect(res.isJson).toBe(false);
    const error = unexpectedResponse(res);
    expect(error.message).toMatch(/HTTP 502 with an HTML page/);
    expect(error.retryable).toBe(true);
  });

  it('retries transient failures with the configured waits, then answers', async () => {
    const server = await serve([drop, html(503), json(200, { ok: 1 })]);
    const clock = fakeClock();
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: standardRetry });
    const res = await client.send({ url: server.url });
    expect(res.status).toBe(200);
    expect(server.hits).toHaveLength(3);
    expect(clock.waits).toEqual([500, 1500]);
  });

  it('does not retry a structured error body', async () => {
    const server = await serve([json(503, { error: { code: 'RUNTIME_UNAVAILABLE' } })]);
    const clock = fakeClock();
    const res = await new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      clock,
      retry: standardRetry,
    }).send({
      url: server.url,
    });
    expect(res.status).toBe(503);
    expect(server.hits).toHaveLength(1);
  });

  it('gives up after the last transient retry with a network error', async () => {
    const server = await serve([drop]);
    const clock = fakeClock();
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: standardRetry });
    await expect(client.send({ url: server.url })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
      retryable: true,
    });
    expect(server.hits).toHaveLength(4);
    expect(clock.waits).toEqual([500, 1500, 4000]);
  });

  it('retryUnreachable: false: a refused connection or an unresolved host is tried once, a reset still retried', async () => {
    const failing = (code: string) => {
      const calls: string[] = [];
      const fetch = (async (url: URL) => {
        calls.push(String(url));
        throw new TypeError('fetch failed', { cause: Object.assign(new Error(code), { code }) });
      }) as unknown as typeof globalThis.fetch;
      return { calls, fetch };
    };
    for (const [code, reason] of [
      ['ECONNREFUSED', 'the connection was refused'],
      ['ENOTFOUND', 'the host name could not be resolved'],
      ['EAI_AGAIN', 'the host name could not be resolved'],
    ] as const) {
      const { calls, fetch } = failing(code);
      const clock = fakeClock();
      const quick = new HttpClient({
        clientName: 'l',
        clientVersion: '0',
        clock,
        fetch,
        retryUnreachable: false,
      });
      // The request's own policy (as a provider passes it) does not bring the retries back.
      await expect(quick.send({ url: 'https://api.example/x', retry: standardRetry })).rejects.toMatchObject({
        code: 'NETWORK_ERROR',
        message: `Could not reach api.example: ${reason}.`,
      });
      expect(calls).toHaveLength(1);
      expect(clock.waits).toEqual([]);
    }
    // A reset connection reached a server: still retried by the policy.
    const reset = failing('ECONNRESET');
    const clock = fakeClock();
    const quick = new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      clock,
      fetch: reset.fetch,
      retryUnreachable: false,
    });
    await expect(quick.send({ url: 'https://api.example/x', retry: standardRetry })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
    });
    expect(reset.calls).toHaveLength(4);
    expect(clock.waits).toEqual([500, 1500, 4000]);
    // Without the option (the default), a refused connection is retried as before.
    const refused = failing('ECONNREFUSED');
    const standard = new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      clock: fakeClock(),
      fetch: refused.fetch,
    });
    await expect(standard.send({ url: 'https://api.example/x', retry: standardRetry })).rejects.toMatchObject(
      {
        code: 'NETWORK_ERROR',
      },
    );
    expect(refused.calls).toHaveLength(4);
  });

  it('maxTimeoutMs caps the timeout a request asks for: a hanging server costs the cap', async () => {
    const server = await serve([() => undefined]);
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', maxTimeoutMs: 300 });
    const started = Date.now();
    await expect(
      client.send({ url: server.url, timeoutMs: 15_000, retry: standardRetry }),
    ).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `${new URL(server.url).host} did not answer within 0.3 s (1 try).`,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    // A shorter timeout than the cap is kept.
    const shorter = new HttpClient({ clientName: 'l', clientVersion: '0', maxTimeoutMs: 60_000 });
    await expect(shorter.send({ url: server.url, timeoutMs: 200 })).rejects.toMatchObject({
      message: `${new URL(server.url).host} did not answer within 0.2 s (1 try).`,
    });
  });

  it('waits a short Retry-After once, and returns a second 429', async () => {
    const server = await serve([
      json(429, {}, { 'retry-after': '3' }),
      json(429, {}, { 'retry-after': '3' }),
    ]);
    const clock = fakeClock();
    const res = await new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      clock,
      retry: standardRetry,
    }).send({
      url: server.url,
    });
    expect(res.status).toBe(429);
    expect(server.hits).toHaveLength(2);
    expect(clock.waits).toEqual([3000]);
  });

  it('does not wait out a long Retry-After', async () => {
    const server = await serve([json(429, {}, { 'retry-after': '30' })]);
    const clock = fakeClock();
    await new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: standardRetry }).send({
      url: server.url,
    });
    expect(server.hits).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it('times out a silent server with a retryable TIMEOUT', async () => {
    const server = await serve([() => undefined]);
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', timeoutMs: 100 });
    await expect(client.send({ url: server.url })).rejects.toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });
  });

  it('says how many tries a request made when the last one timed out', async () => {
    const server = await serve([() => undefined]);
    const clock = fakeClock();
    const host = new URL(server.url).host;
    // Each try waits 0.5 s of real time: enough for a loaded machine to connect, so the server sees all three.
    const retrying = new HttpClient({ clientName: 'l', clientVersion: '0', timeoutMs: 500, clock });
    await expect(
      retrying.send({ url: server.url, retry: { transientDelaysMs: [10, 10] } }),
    ).rejects.toMatchObject({ code: 'TIMEOUT', message: `${host} did not answer within 0.5 s (3 tries).` });
    expect(server.hits).toHaveLength(3);
    const once = new HttpClient({ clientName: 'l', clientVersion: '0', timeoutMs: 1000 });
    const single = await serve([() => undefined]);
    await expect(once.send({ url: single.url })).rejects.toMatchObject({
      message: `${new URL(single.url).host} did not answer within 1 s (1 try).`,
    });
  });

  it('bounds the whole request, retries included, by the timeout: resets then a hang end at the timeout', async () => {
    const server = await serve([drop, drop, () => undefined]);
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', timeoutMs: 2000 });
    const started = Date.now();
    await expect(
      client.send({ url: server.url, retry: { transientDelaysMs: [50, 50, 50] } }),
    ).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `${new URL(server.url).host} did not answer within 2 s (3 tries).`,
    });
    // Retried one timeout each (the old way) it would take over 6 s; a loaded machine gets 3 s of room.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.hits).toHaveLength(3);
  });

  it('a server that hangs costs one timeout, not one per retry', async () => {
    const server = await serve([() => undefined]);
    const client = new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      timeoutMs: 400,
      retry: standardRetry,
    });
    const started = Date.now();
    await expect(client.send({ url: server.url })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `${new URL(server.url).host} did not answer within 0.4 s (1 try).`,
    });
    // One timeout per retry plus the waits between would be over 7 s.
    expect(Date.now() - started).toBeLessThan(4000);
    expect(server.hits).toHaveLength(1);
  });

  it("honours a 503's Retry-After of up to 5 s instead of its own wait", async () => {
    const server = await serve([html503('2'), html503('0'), json(200, { ok: 1 })]);
    const clock = fakeClock();
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: standardRetry });
    const res = await client.send({ url: server.url });
    expect(res.status).toBe(200);
    expect(clock.waits).toEqual([2000, 0]);
  });

  it('returns a 503 at once when its Retry-After is longer than 5 s', async () => {
    const server = await serve([html503('30'), json(200, { ok: 1 })]);
    const clock = fakeClock();
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: standardRetry });
    const res = await client.send({ url: server.url });
    expect(res.status).toBe(503);
    expect(server.hits).toHaveLength(1);
    expect(clock.waits).toEqual([]);
  });

  it('hands fetch one signal: the time limit aborts it as a TimeoutError (TIMEOUT), Ctrl-C as CANCELLED', async () => {
    const seen: AbortSignal[] = [];
    let called: (() => void) | undefined;
    const hangingFetch = ((_url: URL, init: RequestInit) =>
      new Promise((_, reject) => {
        const signal = init.signal!;
        seen.push(signal);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        called?.();
      })) as typeof globalThis.fetch;
    const timed = new HttpClient({ clientName: 'l', clientVersion: '0', timeoutMs: 30, fetch: hangingFetch });
    await expect(timed.send({ url: 'https://api.example' })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect((seen[0]!.reason as Error).name).toBe('TimeoutError');

    const controller = new AbortController();
    const cancelled = new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      fetch: hangingFetch,
      signal: controller.signal,
    });
    const fetching = new Promise<void>((resolve) => (called = resolve));
    const sending = cancelled.send({ url: 'https://api.example' });
    await fetching;
    controller.abort();
    await expect(sending).rejects.toMatchObject({ code: 'CANCELLED', exitCode: 130 });
    expect(seen[1]!.aborted).toBe(true);
  });

  it('is cancelled by its signal with exit 130', async () => {
    const server = await serve([() => undefined]);
    const controller = new AbortController();
    const client = new HttpClient({ clientName: 'l', clientVersion: '0', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(client.send({ url: server.url })).rejects.toMatchObject({
      code: 'CANCELLED',
      exitCode: 130,
    });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:12 GMT', now)).toBe(12_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('parseBaseUrl', () => {
  it('accepts https anywhere and http only on loopback', () => {
    expect(parseBaseUrl('https://api.example.com/').toString()).toBe('https://api.example.com/');
    expect(parseBaseUrl('http://127.0.0.1:8080/api/').toString()).toBe('http://127.0.0.1:8080/api');
    expect(parseBaseUrl('http://localhost:3000').host).toBe('localhost:3000');
    expect(parseBaseUrl('http://[::1]:3000').hostname).toBe('[::1]');
  });

  it('refuses plain http to another host and nonsense, with exit 2', () => {
    expect(() => parseBaseUrl('http://example.com')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseBaseUrl('not a url')).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => parseBaseUrl('ftp://example.com')).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('proxies', () => {
  it('goes through HTTPS_PROXY/HTTP_PROXY when set, and around it for NO_PROXY hosts', async () => {
    const { createServer: createHttpServer } = await import('node:http');
    const { connect } = await import('node:net');
    const tunnels: string[] = [];
    const proxy = createHttpServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: IncomingMessage, socket: import('node:net').Socket, head: Buffer) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    servers.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const server = await serve([json(200, { via: 'target' })]);
    const target = new URL(server.url);

    const proxied = new HttpClient({ clientName: 'l', clientVersion: '0', env: { HTTP_PROXY: proxyUrl } });
    const res = await proxied.send({ url: `${server.url}/x` });
    expect(res.body).toEqual({ via: 'target' });
    expect(tunnels).toEqual([`${target.hostname}:${target.port}`]);

    const bypassed = new HttpClient({
      clientName: 'l',
      clientVersion: '0',
      env: { HTTP_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' },
    });
    await bypassed.send({ url: `${server.url}/y` });
    expect(tunnels).toHaveLength(1);
    expect(server.hits).toHaveLength(2);
  });
});

describe('the error envelope', () => {
  const envelope = (status: number, code: string, headers: Record<string, string> = {}) =>
    json(
      status,
      {
        error: {
          code,
          message: `m ${code}`,
          action: `a ${code}`,
          retryable: status === 429,
          docs: `https://d/${code}`,
        },
      },
      headers,
    );

  it('retries RATE_LIMITED once within 5 s, never quota 429s, never envelope 5xx, and HTML 5xx three times', async () => {
    const { envelopeRetry } = await import('./envelope.js');
    const cases: Array<[Handler[], number, number[]]> = [
      [[envelope(429, 'RATE_LIMITED', { 'retry-after': '2' }), json(200, {})], 2, [2000]],
      [[envelope(429, 'RATE_LIMITED', { 'retry-after': '17' })], 1, []],
      [[envelope(429, 'QUOTA_EXCEEDED', { 'retry-after': '1' })], 1, []],
      [[envelope(503, 'RUNTIME_UNAVAILABLE')], 1, []],
      [[html(502), html(502), html(502), html(502)], 4, [500, 1500, 4000]],
    ];
    for (const [handlers, hits, waits] of cases) {
      const server = await serve(handlers);
      const clock = fakeClock();
      await new HttpClient({ clientName: 'l', clientVersion: '0', clock, retry: envelopeRetry }).send({
        url: server.url,
      });
      expect(server.hits).toHaveLength(hits);
      expect(clock.waits).toEqual(waits);
    }
  });

  it('becomes a LatchkeyError unchanged in meaning, with exit 4 for 401 and the wait for 429', async () => {
    const { envelopeError, errorEnvelope } = await import('./envelope.js');
    const server = await serve([
      envelope(401, 'UNAUTHORIZED'),
      envelope(429, 'RATE_LIMITED', { 'retry-after': '17' }),
    ]);
    const client = new HttpClient({ clientName: 'l', clientVersion: '0' });
    const unauthorized = await client.send({ url: server.url });
    expect(envelopeError(unauthorized, errorEnvelope(unauthorized)!, 0).toEnvelope()).toEqual({
      code: 'UNAUTHORIZED',
      message: 'm UNAUTHORIZED',
      action: 'a UNAUTHORIZED',
      retryable: false,
      docs: 'https://d/UNAUTHORIZED',
    });
    expect(envelopeError(unauthorized, errorEnvelope(unauthorized)!, 0).exitCode).toBe(4);
    const limited = await client.send({ url: server.url });
    const error = envelopeError(limited, errorEnvelope(limited)!, 0);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 17_000, exitCode: 1 });
    expect(error.message).toContain('Retry in 17 s.');
  });
});
