/**
 * Bodies are read with a cap on decoded bytes, from a real server on 127.0.0.1: compression bombs and huge
 * bodies stop at the cap with RESPONSE_TOO_LARGE and without the memory a full read would take.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, constants, createBrotliCompress, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from './client.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Array<ReturnType<typeof createServer>> = [];

async function serve(handler: Handler): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

const MiB = 1024 * 1024;
const client = (over: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({ clientName: 'latchkey', clientVersion: '0', ...over });

/** 1 GiB of zeros as ~1 MB of gzip: 1024 gzip members of 1 MiB each (a stream may hold many members). */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(MiB), { level: 9 });
  return Buffer.concat(Array.from({ length: 1024 }, () => member));
}

/** 1 GiB of zeros as brotli, compressed chunk by chunk so the test itself never holds 1 GiB. */
async function brotliBomb(): Promise<Buffer> {
  const compressor = createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
  const out: Buffer[] = [];
  compressor.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => compressor.on('end', resolve));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < 1024; i++) {
    if (!compressor.write(zeros)) await new Promise((resolve) => compressor.once('drain', resolve));
  }
  compressor.end();
  await ended;
  return Buffer.concat(out);
}

/** Streams `total` bytes of JSON-looking text, honouring back-pressure, until done or the client goes away. */
function streamBytes(total: number, declareLength: boolean): Handler {
  return (_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(declareLength ? { 'content-length': String(total) } : {}),
    });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    res.on('error', () => undefined);
    const pump = () => {
      while (!closed && sent < total) {
        const part = chunk.subarray(0, Math.min(chunk.length, total - sent));
        sent += part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      if (!closed) res.end();
    };
    pump();
  };
}

/** Runs `work` while sampling this process's RSS; returns how far the peak rose above the start. */
async function rssGrowth(work: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage().rss) - start;
}

const tooLarge = (url: string, cap = '1 MiB') => ({
  code: 'RESPONSE_TOO_LARGE',
  exitCode: 1,
  retryable: false,
  message: `${new URL(url).host} sent a response larger than ${cap}; latchkey stopped reading it.`,
});

describe('bounded bodies', () => {
  it('stops a gzip bomb (1 MB -> 1 GiB) at 1 MiB, without the memory a full read takes', async () => {
    const bomb = gzipBomb();
    expect(bomb.length).toBeLessThan(1.2 * MiB);
    const url = await serve((_req, res) => {
      res.on('error', () => undefined);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    let failure: unknown;
    const grew = await rssGrowth(() =>
      client()
        .send({ url })
        .catch((error: unknown) => (failure = error)),
    );
    expect(failure).toMatchObject(tooLarge(url));
    expect((failure as Error).message).not.toMatch(/Could not reach|request failed/);
    expect(grew).toBeLessThan(50 * MiB);
  });

  it('stops a brotli bomb (-> 1 GiB) at 1 MiB', async () => {
    const bomb = await brotliBomb();
    const url = await serve((_req, res) => {
      res.on('error', () => undefined);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      res.end(bomb);
    });
    let failure: unknown;
    const grew = await rssGrowth(() =>
      client()
        .send({ url })
        .catch((error: unknown) => (failure = error)),
    );
    expect(failure).toMatchObject(tooLarge(url));
    expect(grew).toBeLessThan(50 * MiB);
  });

  it('stops a 50 MB body sent without a length at the cap', async () => {
    const url = await serve(streamBytes(50 * 1000 * 1000, false));
    let failure: unknown;
    const grew = await rssGrowth(() =>
      client()
        .send({ url })
        .catch((error: unknown) => (failure = error)),
    );
    expect(failure).toMatchObject(tooLarge(url));
    expect(grew).toBeLessThan(50 * MiB);
  });

  it('refuses a 50 MB body by its declared length before reading it', async () => {
    const url = await serve(streamBytes(50 * 1000 * 1000, true));
    await expect(client().send({ url })).rejects.toMatchObject(tooLarge(url));
  });

  it('takes a per-request cap, and reads a body of exactly the cap', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(2000) });
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'br' });
      res.end(brotliCompressSync(body));
    });
    const exact = await client().send({ url, maxResponseBytes: body.length });
    expect(exact.body).toEqual({ pad: 'x'.repeat(2000) });
    await expect(client().send({ url, maxResponseBytes: 1000 })).rejects.toMatchObject(
      tooLarge(url, '1000 bytes'),
    );
    await expect(client({ maxResponseBytes: 1024 }).send({ url })).rejects.toMatchObject(
      tooLarge(url, '1 KiB'),
    );
  });

  it('times out a body that trickles in at 1 byte per interval', async () => {
    const timers: NodeJS.Timeout[] = [];
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      res.on('error', () => undefined);
      timers.push(setInterval(() => res.write(' '), 20));
    });
    const started = Date.now();
    try {
      await expect(client({ timeoutMs: 300 }).send({ url })).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: `${new URL(url).host} did not answer within 0.3 s (1 try).`,
      });
      expect(Date.now() - started).toBeLessThan(5000); // unbounded, the trickle would never end
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });
});
