/**
 * The HTTP plumbing every provider emulator shares: listening on 127.0.0.1, reading request bodies, a queue
 * of injected faults (status / html / empty / delay / drop, each `times` times), JSON and HTML answers, the
 * error page a proxy in front of an API shows, and closing with every open connection. The emulators keep
 * their routes, records and provider-specific fault kinds; this module knows nothing of any provider.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmulatorServerOptions {
  /** TCP port on 127.0.0.1; default 0 (a free port chosen by the OS). */
  port?: number | undefined;
  /** Answers one request. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /**
   * Answers a request whose `handle` threw, while nothing has been sent yet; once the answer has begun (or
   * without this option) the connection is destroyed instead.
   */
  internalError?: (res: ServerResponse, error: unknown) => void;
  /** Runs once, when `close` is first called, before the server stops (e.g. to cancel pending delays). */
  onClose?: () => void;
}

export interface EmulatorServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Stops listening and ends every open connection; calling it again returns the same promise. */
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 (never another interface: these are test servers). */
export async function startEmulatorServer(options: EmulatorServerOptions): Promise<EmulatorServer> {
  const server = createServer((req, res) => {
    options.handle(req, res).catch((error: unknown) => {
      if (options.internalError && !res.headersSent && !res.destroyed) options.internalError(res, error);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        options.onClose?.();
        server.close(() => resolve());
        // Keep-alive connections would otherwise hold `close` open until they time out.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The fault kinds every emulator understands; an emulator may add its own (see `FaultQueue`). */
export type StatusFault = {
  kind: 'status';
  status: number;
  body?: string | object;
  headers?: Record<string, string>;
};
export type HtmlFault = { kind: 'html'; status: number };
export type EmptyFault = { kind: 'empty'; status: number };
export type DelayFault = { kind: 'delay'; ms: number };
export type DropFault = { kind: 'drop' };

/** Which requests a fault hits (`'*'`: every request) and how many times (default 1). */
export type FaultTarget<Route extends string> = { route: Route | '*'; times?: number };

export interface FaultQueue<F extends FaultTarget<string> & { kind: string }> {
  add(fault: F): void;
  clear(): void;
  /**
   * The fault for a request on `route`: the first queued one whose route matches, used up `times` times.
   * A `delay` is waited out here and then lets the request go on, so a further fault queued for this route
   * still applies; the first fault that is not a delay is returned (undefined when none is left).
   */
  take(route: string): Promise<Exclude<F, DelayFault> | undefined>;
  /** Abandons the delays under way (their requests never resume; closing the server ends them). */
  cancelDelays(): void;
}

export function createFaultQueue<F extends FaultTarget<string> & { kind: string }>(): FaultQueue<F> {
  const pending: Array<{ fault: F; remaining: number }> = [];
  const delayTimers = new Set<NodeJS.Timeout>();

  function takeOne(route: string): F | undefined {
    const index = pending.findIndex((entry) => entry.fault.route === '*' || entry.fault.route === route);
    if (index < 0) return undefined;
    const entry = pending[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) pending.splice(index, 1);
    return entry.fault;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        delayTimers.delete(timer);
        resolve();
      }, ms);
      delayTimers.add(timer);
    });
  }

  return {
    add(fault) {
      pending.push({ fault, remaining: fault.times ?? 1 });
    },
    clear() {
      pending.length = 0;
    },
    async take(route) {
      let fault = takeOne(route);
      while (fault && isDelay(fault)) {
        await sleep(fault.ms);
        fault = takeOne(route);
      }
      return fault as Exclude<F, DelayFault> | undefined;
    },
    cancelDelays() {
      for (const timer of delayTimers) clearTimeout(timer);
      delayTimers.clear();
    },
  };
}

function isDelay(fault: { kind: string }): fault is DelayFault {
  return fault.kind === 'delay';
}

/** Whose error page an `html` fault shows: the proxy or CDN the emulated service sits behind. */
export type ErrorPageProxy = 'cloudflare' | 'nginx';

const HTML = 'text/html; charset=utf-8';

/**
 * The headers of an `html` fault, per proxy. The nginx page is sent without `cache-control`, as the
 * emulator that uses it always has.
 */
const ERROR_PAGE_HEADERS: Readonly<Record<ErrorPageProxy, Record<string, string>>> = {
  cloudflare: { 'content-type': HTML, 'cache-control': 'no-store' },
  nginx: { 'content-type': HTML },
};

/**
 * Answers a fault of a shared kind: `drop` resets the connection (status stays 0), the others answer and
 * note the status on the record.
 */
export function answerFault(
  fault: StatusFault | HtmlFault | EmptyFault | DropFault,
  req: IncomingMessage,
  res: ServerResponse,
  record: { status: number },
  proxy: ErrorPageProxy,
): void {
  switch (fault.kind) {
    case 'drop':
      req.socket.destroy();
      return;
    case 'status': {
      const body = fault.body ?? {
        error: (STATUS_CODES[fault.status] ?? 'error').toLowerCase().replace(/ /g, '_'),
      };
      const isText = typeof body === 'string';
      record.status = fault.status;
      res.writeHead(fault.status, {
        'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json',
        ...fault.headers,
      });
      res.end(isText ? body : JSON.stringify(body));
      return;
    }
    case 'html':
      record.status = fault.status;
      res.writeHead(fault.status, ERROR_PAGE_HEADERS[proxy]);
      res.end(proxyErrorPage(fault.status, proxy));
      return;
    case 'empty':
      record.status = fault.status;
      res.writeHead(fault.status, { 'content-length': '0' });
      res.end();
      return;
  }
}

/** What a CDN or reverse proxy in front of the API answers when the origin fails. */
export function proxyErrorPage(status: number, proxy: ErrorPageProxy): string {
  const reason = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return `<!DOCTYPE html>
<html>
<head><title>${reason}</title></head>
<body>
<center><h1>${reason}</h1></center>
<hr><center>${proxy}</center>
</body>
</html>
`;
}

/** The method and target of a request, the target split into path and query. */
export function requestTarget(req: IncomingMessage): {
  method: string;
  /** The request target as received: path and query string. */
  target: string;
  pathname: string;
  searchParams: URLSearchParams;
} {
  const target = req.url ?? '/';
  const { pathname, searchParams } = new URL(target, 'http://emulator.invalid');
  return { method: req.method ?? 'GET', target, pathname, searchParams };
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parsed JSON, or undefined when the text is not JSON. */
export function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** Lower-cased names; repeated headers joined with ", ". */
export function flattenHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Answers JSON, never cached, and notes the status on the record when there is one. */
export function sendJson(
  res: ServerResponse,
  record: { status: number } | undefined,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (record) record.status = status;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers an HTML page, never cached, and notes the status on the record. */
export function sendHtml(
  res: ServerResponse,
  record: { status: number },
  status: number,
  html: string,
): void {
  record.status = status;
  res.writeHead(status, { 'content-type': HTML, 'cache-control': 'no-store' });
  res.end(html);
}

/**
 * Fault kinds that misbehave below the level of a JSON answer: raw bytes, a reset in the middle of the
 * body, no answer at all, a body trickled a byte at a time, a huge body, a gzip bomb, and a redirect. They
 * are answered by `answerStreamFault`, and the fault proxy (`startFaultProxy`) understands them, so every
 * emulator can be put behind them without knowing of them.
 */
export type RawFault = {
  kind: 'raw';
  status: number;
  /** Sent as is (e.g. JSON cut short, or text with escape sequences). */
  body: string | Buffer;
  headers?: Record<string, string>;
};
/** Headers and the first half of a JSON body, then the connection is destroyed. */
export type ResetMidBodyFault = { kind: 'reset-mid-body' };
/** Reads the request and never answers (the connection ends when the client gives up or the server closes). */
export type HangFault = { kind: 'hang' };
/** 200 with JSON headers, then the body one byte every `intervalMs` (default 1000), for as long as the client reads. */
export type TrickleFault = { kind: 'trickle'; intervalMs?: number };
/** 200 JSON of `bytes` bytes (one string field), streamed in chunks so the emulator never holds it whole. */
export type LargeBodyFault = { kind: 'large-body'; bytes: number };
/** 200 JSON sent with `content-encoding: gzip`: the bytes of `gzip` (see `gzipBomb()`) as they are. */
export type GzipBombFault = { kind: 'gzip-bomb'; gzip: Buffer };
/** A redirect (default 302) to `location`; a relative location points back at this server. */
export type RedirectFault = { kind: 'redirect'; location: string; status?: number };
export type StreamFault =
  RawFault | ResetMidBodyFault | HangFault | TrickleFault | LargeBodyFault | GzipBombFault | RedirectFault;

const STREAM_FAULT_KINDS: ReadonlySet<string> = new Set([
  'raw',
  'reset-mid-body',
  'hang',
  'trickle',
  'large-body',
  'gzip-bomb',
  'redirect',
]);

export function isStreamFault(fault: { kind: string }): fault is StreamFault {
  return STREAM_FAULT_KINDS.has(fault.kind);
}

/** Answers a `StreamFault`; notes the status on the record when one is sent (0 for a hang). */
export function answerStreamFault(
  fault: StreamFault,
  req: IncomingMessage,
  res: ServerResponse,
  record: { status: number },
): void {
  switch (fault.kind) {
    case 'raw':
      record.status = fault.status;
      res.writeHead(fault.status, fault.headers ?? {});
      res.end(fault.body);
      return;
    case 'reset-mid-body': {
      const body = JSON.stringify({ status: 'ok', padding: 'x'.repeat(2048) });
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
      res.write(body.slice(0, body.length / 2), () => req.socket.destroy());
      return;
    }
    case 'hang':
      // Nothing is sent; closing the server (closeAllConnections) ends the connection.
      req.resume();
      return;
    case 'trickle': {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json' });
      const body = `{"status":"ok","padding":"${'x'.repeat(100_000)}"}`;
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= body.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        res.write(body[sent++]!);
      }, fault.intervalMs ?? 1000);
      res.on('close', () => clearInterval(timer));
      return;
    }
    case 'large-body': {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(fault.bytes) });
      const head = '{"padding":"';
      const tail = '"}';
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = fault.bytes - head.length - tail.length;
      res.write(head);
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end(tail);
      };
      pump();
      return;
    }
    case 'gzip-bomb':
      record.status = 200;
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
        'content-length': String(fault.gzip.length),
      });
      res.end(fault.gzip);
      return;
    case 'redirect':
      record.status = fault.status ?? 302;
      res.writeHead(fault.status ?? 302, { location: fault.location, 'content-length': '0' });
      res.end();
      return;
  }
}

const bombs = new Map<number, Promise<Buffer>>();

/**
 * A small gzip stream that inflates to `decodedBytes` zero bytes (1 GiB → about 1 MiB): one gzip member of
 * 1 MiB of zeros repeated (a gzip stream may hold many members, and a decoder inflates them all), so it is
 * built in milliseconds, in memory, and kept for this process. Nothing is written to disk.
 */
export function gzipBomb(decodedBytes: number): Promise<Buffer> {
  let bomb = bombs.get(decodedBytes);
  if (!bomb) {
    bomb = buildGzipBomb(decodedBytes);
    bombs.set(decodedBytes, bomb);
  }
  return bomb;
}

async function buildGzipBomb(decodedBytes: number): Promise<Buffer> {
  const { gzipSync } = await import('node:zlib');
  const MEMBER = 1024 * 1024;
  const member = gzipSync(Buffer.alloc(MEMBER), { level: 9 });
  const members: Buffer[] = Array.from({ length: Math.floor(decodedBytes / MEMBER) }, () => member);
  const rest = decodedBytes % MEMBER;
  if (rest > 0 || members.length === 0) members.push(gzipSync(Buffer.alloc(rest), { level: 9 }));
  return Buffer.concat(members);
}

/** Rewrites the JSON body of a proxied answer (the status and other headers are kept). */
export type RewriteFault = { kind: 'rewrite'; transform: (body: unknown) => unknown };

/** What a fault proxy injects: the shared kinds, the stream kinds and `rewrite`, per request path. */
export type ProxyFault = FaultTarget<string> &
  (StatusFault | HtmlFault | EmptyFault | DelayFault | DropFault | StreamFault | RewriteFault);

export interface ProxyRequest {
  /** `Date.now()` when the request arrived. */
  at: number;
  method: string;
  /** Path and query string, as received. */
  path: string;
  /** The fault kind applied, or undefined when the request went through untouched. */
  fault?: string;
  /** The status answered; 0 while unanswered, for a hang or a dropped connection. */
  status: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: use it instead of the target's URL. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: ProxyRequest[];
  /** Faults by request path (the path without its query, e.g. `/api/cli-login/poll`), or `'*'`. */
  readonly faults: { add(fault: ProxyFault): void; clear(): void };
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of any emulator (`target`, e.g. `http://127.0.0.1:PORT`): a request
 * whose path has a queued fault gets the fault; any other request is forwarded to the target and its
 * answer passed back (through `rewrite` when that is the fault). Lets a test break one step of a real
 * protocol while the other steps stay real.
 */
export async function startFaultProxy(options: { target: string; port?: number }): Promise<FaultProxy> {
  const requests: ProxyRequest[] = [];
  const faults = createFaultQueue<ProxyFault>();
  const target = new URL(options.target);

  async function forward(
    req: IncomingMessage,
    res: ServerResponse,
    record: ProxyRequest,
    rewrite?: RewriteFault,
  ): Promise<void> {
    const body = await readBody(req);
    const headers = flattenHeaders(req);
    delete headers.host;
    delete headers['content-length'];
    const answer = await fetch(new URL(req.url ?? '/', target), {
      method: req.method ?? 'GET',
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body,
      redirect: 'manual',
    });
    let text = await answer.text();
    if (rewrite) text = JSON.stringify(rewrite.transform(parseJson(text)));
    const out: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name))
        out[name] = value;
    });
    record.status = answer.status;
    res.writeHead(answer.status, out);
    res.end(text);
  }

  const server = await startEmulatorServer({
    port: options.port,
    async handle(req, res) {
      const { method, target: path, pathname } = requestTarget(req);
      const record: ProxyRequest = { at: Date.now(), method, path, status: 0 };
      requests.push(record);
      const fault = await faults.take(pathname);
      if (fault) record.fault = fault.kind;
      if (!fault) return forward(req, res, record);
      if (fault.kind === 'rewrite') return forward(req, res, record, fault);
      if (isStreamFault(fault)) return answerStreamFault(fault, req, res, record);
      await readBody(req);
      answerFault(fault, req, res, record, 'cloudflare');
    },
    internalError(res) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('fault proxy: the target did not answer');
    },
    onClose: faults.cancelDelays,
  });
  return {
    url: server.url,
    requests,
    faults: { add: faults.add, clear: faults.clear },
    close: server.close,
  };
}
