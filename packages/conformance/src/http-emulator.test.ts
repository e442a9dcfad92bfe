import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  gzipBomb,
  sendJson,
  startEmulatorServer,
  startFaultProxy,
  type EmulatorServer,
  type FaultProxy,
} from './http-emulator.js';

let target: EmulatorServer | undefined;
let proxy: FaultProxy | undefined;
const seen: string[] = [];

async function start(): Promise<FaultProxy> {
  seen.length = 0;
  target = await startEmulatorServer({
    async handle(req, res) {
      seen.push(`${req.method} ${req.url}`);
      sendJson(res, undefined, 200, { name: 'Ada', token: 't-1' }, { 'x-upstream': 'yes' });
    },
  });
  proxy = await startFaultProxy({ target: target.url });
  return proxy;
}

afterEach(async () => {
  await proxy?.close();
  await target?.close();
  proxy = target = undefined;
});

/** The raw answer over plain http (no fetch decoding, no redirect following). */
function rawGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

describe('fault proxy', () => {
  it('forwards a request without a fault and passes the answer back', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/api/me?x=1`, { method: 'POST', body: 'hi' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-upstream')).toBe('yes');
    expect(await res.json()).toEqual({ name: 'Ada', token: 't-1' });
    expect(seen).toEqual(['POST /api/me?x=1']);
    expect(proxy!.requests).toEqual([
      { at: expect.any(Number), method: 'POST', path: '/api/me?x=1', status: 200 },
    ]);
  });

  it('applies a fault only to its path, `times` times, then forwards again', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '/a', kind: 'status', status: 503, times: 2 });
    expect((await fetch(`${url}/b`)).status).toBe(200);
    expect((await fetch(`${url}/a`)).status).toBe(503);
    expect((await fetch(`${url}/a?q`)).status).toBe(503);
    expect((await fetch(`${url}/a`)).status).toBe(200);
    expect(proxy!.requests.map((r) => r.fault)).toEqual([undefined, 'status', 'status', undefined]);
  });

  it('rewrite: the upstream JSON through a transform', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'rewrite', transform: (b) => ({ ...(b as object), name: 'Bob' }) });
    expect(await (await fetch(url)).json()).toEqual({ name: 'Bob', token: 't-1' });
  });

  it('raw: the bytes as given', async () => {
    const { url } = await start();
    proxy!.faults.add({
      route: '*',
      kind: 'raw',
      status: 200,
      body: '{"cut',
      headers: { 'content-type': 'application/json' },
    });
    const res = await fetch(url);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.text()).toBe('{"cut');
    expect(seen).toEqual([]);
  });

  it('reset-mid-body: headers, part of the body, then a reset', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'reset-mid-body' });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('hang: no answer until the client gives up', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'hang' });
    const t0 = Date.now();
    await expect(fetch(url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(proxy!.requests[0]).toMatchObject({ fault: 'hang', status: 0 });
  });

  it('trickle: a byte per interval', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'trickle', intervalMs: 10 });
    const res = await fetch(url);
    const reader = res.body!.getReader();
    let got = 0;
    while (got < 5) got += (await reader.read()).value!.length;
    await reader.cancel();
    expect(got).toBeLessThan(10);
  });

  it('large-body: exactly that many bytes of JSON', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'large-body', bytes: 3 * 1024 * 1024 + 7 });
    const text = await (await fetch(url)).text();
    expect(text.length).toBe(3 * 1024 * 1024 + 7);
    expect((JSON.parse(text) as { padding: string }).padding).toMatch(/^x+$/);
  });

  it('gzip-bomb: a small body that inflates to the given size (kept in memory, no file)', async () => {
    // Built with a temp directory of its own: nothing may be written there.
    const temp = await mkdtemp(join(tmpdir(), 'latchkey-bomb-test-'));
    vi.stubEnv('TMPDIR', temp);
    const bomb = await gzipBomb(8 * 1024 * 1024 + 5).finally(() => vi.unstubAllEnvs());
    expect(await readdir(temp)).toEqual([]);
    await rm(temp, { recursive: true });
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(gunzipSync(bomb).length).toBe(8 * 1024 * 1024 + 5);
    expect(await gzipBomb(8 * 1024 * 1024 + 5)).toBe(bomb);
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'gzip-bomb', gzip: bomb, times: 2 });
    const res = await rawGet(url);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.body.equals(bomb)).toBe(true);
    // fetch (undici, what @latchkey/http uses) inflates every member: the whole size arrives.
    let inflated = 0;
    for await (const chunk of (await fetch(url)).body!) inflated += (chunk as Uint8Array).length;
    expect(inflated).toBe(8 * 1024 * 1024 + 5);
  });

  it('redirect: the status and location, and nothing forwarded', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '*', kind: 'redirect', location: 'http://127.0.0.1:9/elsewhere' });
    proxy!.faults.add({ route: '*', kind: 'redirect', location: '/again', status: 307 });
    expect(await rawGet(url)).toMatchObject({
      status: 302,
      headers: { location: 'http://127.0.0.1:9/elsewhere' },
    });
    expect(await rawGet(url)).toMatchObject({ status: 307, headers: { location: '/again' } });
    expect(seen).toEqual([]);
  });

  it('close() ends a hung request and a trickle at once', async () => {
    const { url } = await start();
    proxy!.faults.add({ route: '/h', kind: 'hang' });
    proxy!.faults.add({ route: '/t', kind: 'trickle' });
    const hung = fetch(`${url}/h`).catch((e: unknown) => e);
    const trickled = fetch(`${url}/t`)
      .then((r) => r.text())
      .catch((e: unknown) => e);
    // Both requests have arrived (bounded: 60 s at most).
    for (let i = 0; i < 12_000 && proxy!.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await proxy!.close();
    expect(Date.now() - t0).toBeLessThan(10_000); // a hang never ends by itself
    expect(await hung).toBeInstanceOf(Error);
    expect(await trickled).toBeInstanceOf(Error);
  });
});
