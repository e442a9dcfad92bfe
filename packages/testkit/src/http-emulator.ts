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
