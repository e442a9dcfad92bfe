import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '@latchkey/clock';
import { LatchkeyError, cancelledError } from '@latchkey/errors';
import { startLoopbackListener, type LoopbackListener, type LoopbackOptions } from './loopback.js';

/** A clock whose sleeps end only when the test says so (`fire()`), or on abort. */
function manualClock(): Clock & { fire(): void; pending(): number } {
  const waiting: Array<() => void> = [];
  return {
    now: () => 1_700_000_000_000,
    sleep: (_ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(cancelledError());
        waiting.push(resolve);
        signal?.addEventListener('abort', () => reject(cancelledError()), { once: true });
      }),
    fire: () => waiting.splice(0).forEach((resolve) => resolve()),
    pending: () => waiting.length,
  };
}

/** A GET as a browser (or an attacker) would send it, with any Host header. */
function get(
  url: string,
  host?: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method,
        headers: { host: host ?? target.host, connection: 'close' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const open: LoopbackListener[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((l) => l.close()));
});

async function listener(overrides: Partial<LoopbackOptions> = {}) {
  const ignored: string[] = [];
  const clock = manualClock();
  const controller = new AbortController();
  const started = await startLoopbackListener({
    state: 'the-state-0123456789',
    clock,
    signal: controller.signal,
    accept: () => undefined,
    onIgnored: (reason) => void ignored.push(reason),
    ...overrides,
  });
  open.push(started);
  return { listener: started, ignored, clock, controller };
}

describe('the loopback listener (RFC 8252 sections 7.3 and 8)', () => {
  it('listens on 127.0.0.1 and an ephemeral port, one path, and hands over the first callback with the right state', async () => {
    const { listener: l, ignored } = await listener();
    expect(l.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    const port = Number(new URL(l.redirectUri).port);
    expect(port).toBeGreaterThan(1023);
    const waiting = l.wait();

    expect((await get(`${l.redirectUri.replace('/callback', '/')}`)).status).toBe(404);
    expect((await get(`${l.redirectUri}?code=c&state=the-state-0123456789`, undefined, 'POST')).status).toBe(
      405,
    );

    const good = await get(`${l.redirectUri}?code=the-code&state=the-state-0123456789`);
    expect(good.status).toBe(200);
    // A plain page: back to the terminal, nothing of the answer in it, nothing loaded from anywhere.
    expect(good.body).toContain('return to the terminal');
    expect(good.body).not.toContain('the-code');
    expect(good.body).not.toMatch(/<(script|img|link|iframe|style)|src=|href=/i);
    expect(good.headers['content-security-policy']).toContain("default-src 'none'");
    expect(good.headers['cache-control']).toBe('no-store');
    expect(good.headers['referrer-policy']).toBe('no-referrer');

    const params = await waiting;
    expect(params.get('code')).toBe('the-code');
    expect(ignored).toEqual([]);
    // One-shot: closed after the first valid callback; a replay finds nobody listening.
    await expect(get(`${l.redirectUri}?code=the-code&state=the-state-0123456789`)).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });

  it('answers 400 to a wrong, missing or doubled state and keeps waiting for the real one', async () => {
    const { listener: l, ignored } = await listener();
    const waiting = l.wait();
    const wrong = await get(`${l.redirectUri}?code=stolen&state=not-the-state`);
    expect(wrong.status).toBe(400);
    expect(wrong.body).not.toContain('stolen');
    expect((await get(`${l.redirectUri}?code=stolen`)).status).toBe(400);
    expect((await get(`${l.redirectUri}?code=stolen&state=the-state-0123456789&state=x`)).status).toBe(400);
    expect((await get(`${l.redirectUri}?code=stolen&state=the-state-012345678`)).status).toBe(400);
    expect(ignored).toEqual([
      'a callback with a wrong state',
      'a callback without state',
      'a callback with several states',
      'a callback with a wrong state',
    ]);
    expect((await get(`${l.redirectUri}?code=real&state=the-state-0123456789`)).status).toBe(200);
    expect((await waiting).get('code')).toBe('real');
  });

  it('refuses a Host header that is not its own address (DNS rebinding), even with the right state', async () => {
    const { listener: l, ignored } = await listener();
    const waiting = l.wait();
    const port = new URL(l.redirectUri).port;
    for (const host of [
      `localhost:${port}`,
      `attacker.example:${port}`,
      '127.0.0.1',
      `127.0.0.1:${Number(port) + 1}`,
    ]) {
      const answer = await get(`${l.redirectUri}?code=c&state=the-state-0123456789`, host);
      expect(answer.status, host).toBe(400);
    }
    expect(ignored).toHaveLength(4);
    expect(ignored[0]).toBe('a request for another host name');
    expect((await get(`${l.redirectUri}?code=ok&state=the-state-0123456789`)).status).toBe(200);
    expect((await waiting).get('code')).toBe('ok');
  });

  it('ends the wait with what accept() throws (an error redirect, a wrong issuer), answering 400', async () => {
    const denied = new LatchkeyError({ code: 'ACCESS_DENIED', message: 'denied', exitCode: 4 });
    const { listener: l } = await listener({
      accept: () => {
        throw denied;
      },
    });
    const waiting = l.wait();
    waiting.catch(() => undefined); // rejected before the test awaits it
    const answer = await get(`${l.redirectUri}?error=access_denied&state=the-state-0123456789`);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('Return to the terminal');
    await expect(waiting).rejects.toBe(denied);
    await expect(get(l.redirectUri)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives up after the timeout with exit 4 "not approved in time", and closes', async () => {
    const { listener: l, clock } = await listener({ timeoutMs: 300_000 });
    const waiting = l.wait();
    await expect.poll(() => clock.pending()).toBe(1);
    clock.fire();
    const error = await waiting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LatchkeyError);
    expect(error).toMatchObject({ code: 'LOGIN_TIMED_OUT', exitCode: 4 });
    expect((error as Error).message).toContain('not approved in time');
    expect((error as Error).message).toContain('5 minutes');
    await expect(get(l.redirectUri)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('stops on Ctrl-C (CANCELLED) and closes', async () => {
    const { listener: l, controller } = await listener();
    const waiting = l.wait();
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(get(l.redirectUri)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('does not hold the process: close() without a wait ends it', async () => {
    const { listener: l } = await listener();
    await l.close();
    await expect(get(l.redirectUri)).rejects.toThrow(/ECONNREFUSED/);
  });
});
