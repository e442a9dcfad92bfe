import { LatchkeyError, cancelledError, redact } from '@latchkey/errors';
import { maxTimerMs, systemClock, type Clock } from '@latchkey/clock';
import { createProxyFetch, proxyConfigured } from './proxy.js';
import { parseRetryAfter } from './retry-after.js';

/** What to retry by itself. Structured error bodies are never retried: they are the server's answer. */
export interface RetryPolicy {
  /** Wait before each retry of a transient failure (network error, timeout, 5xx without a structured body). */
  transientDelaysMs: readonly number[];
  /** 429: when `Retry-After` is at most `maxWaitMs`, wait that long and retry, at most `maxRetries` times. */
  rateLimit?: { maxWaitMs: number; maxRetries: number; isRetryable?: (response: HttpResponse) => boolean };
  /** True when a 5xx body is the server's own structured error (default: any JSON body). */
  isStructuredError?: (response: HttpResponse) => boolean;
}

/** No automatic retries (the device-flow engine does its own). */
export const noRetry: RetryPolicy = { transientDelaysMs: [] };

/** The policy a provider's SDK documents: 3 transient retries at 0.5 s, 1.5 s, 4 s; one 429 retry up to 5 s. */
export const standardRetry: RetryPolicy = {
  transientDelaysMs: [500, 1500, 4000],
  rateLimit: { maxWaitMs: 5000, maxRetries: 1 },
};

/** Settings shared by every request of one client. */
export interface HttpClientOptions {
  /** Sent as `X-Client-Name` and in `User-Agent`. */
  clientName: string;
  /** Sent as `X-Client-Version` and in `User-Agent`. */
  clientVersion: string;
  fetch?: typeof globalThis.fetch;
  /** Read for HTTPS_PROXY / HTTP_PROXY / NO_PROXY when no `fetch` is given. */
  env?: NodeJS.ProcessEnv;
  /** Per-request timeout, for the answer and its whole body, retries included; default 15 s. */
  timeoutMs?: number;
  /** Most bytes of a body read, after decompression; default 1 MiB. A longer body fails RESPONSE_TOO_LARGE. */
  maxResponseBytes?: number;
  /** Cancels every request (Ctrl-C). */
  signal?: AbortSignal;
  retry?: RetryPolicy;
  clock?: Clock;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Receives one redacted line per request and response (LATCHKEY_DEBUG). */
  debug?: (line: string) => void;
  /**
   * A ceiling on every request's timeout, whatever the request or its policy asks: a quick check (`auth
   * status`) waits at most this long on a server that hangs, retries included.
   */
  maxTimeoutMs?: number;
  /**
   * false: a connection that was refused, or a host name that did not resolve, is not retried, whatever the
   * request's policy (a server that is down is reported at once). Default true.
   */
  retryUnreachable?: boolean;
}

/** One request: URL, method, body (JSON or form), headers and an optional Bearer token. */
export interface HttpRequest {
  method?: string;
  url: URL | string;
  /** Sent as a JSON body. */
  json?: unknown;
  /** Sent as an `application/x-www-form-urlencoded` body. */
  form?: Record<string, string>;
  /** Sent as it is, with the `content-type` of `headers` (a body a protocol library already encoded). */
  body?: string;
  headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  bearer?: string;
  timeoutMs?: number;
  /** Overrides the client's body cap (decoded bytes) for this request. */
  maxResponseBytes?: number;
  /** Overrides the client's retry policy for this request. */
  retry?: RetryPolicy;
}

/** An answer, whatever its status; the body is already read and, when it was JSON, parsed. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The raw body. */
  text: string;
  /** The parsed body when it was JSON, else undefined. */
  body: unknown;
  isJson: boolean;
  /** The URL that answered (never carries a secret: secrets go in headers and bodies). */
  url: string;
}

const defaultTimeoutMs = 15_000;
/** 1 MiB: far more than any provider's answer, and small enough that no body can exhaust memory. */
export const defaultMaxResponseBytes = 1024 * 1024;
/** The longest `Retry-After` on a 503 that the transient retry waits out (longer: the answer is returned). */
const maxServiceUnavailableWaitMs = 5000;

/**
 * fetch with what every provider needs: a timeout per request (body included), cancellation, client
 * identification headers, bounded retries of transient failures, `Retry-After`, and bodies read safely: at
 * most `maxResponseBytes` decoded bytes (a compression bomb stops at the cap), and HTML or empty bodies never
 * crash a JSON parse. HTTP error statuses are returned, not thrown; transport failures throw `LatchkeyError`.
 */
export class HttpClient {
  readonly #options: HttpClientOptions;
  #fetch: Promise<typeof globalThis.fetch> | undefined;
  readonly #clock: Clock;

  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** A client with the same settings and some replaced (e.g. another retry policy). */
  with(overrides: Partial<HttpClientOptions>): HttpClient {
    return new HttpClient({ ...this.#options, ...overrides });
  }

  get userAgent(): string {
    return `${this.#options.clientName}/${this.#options.clientVersion} node/${process.versions.node}`;
  }

  /**
   * Sends a request, retrying by policy. The timeout bounds the whole request, retries and waits included:
   * a server that hangs or trickles costs at most `timeoutMs`, and the TIMEOUT error says how many tries
   * were made in that time.
   */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const policy = request.retry ?? this.#options.retry ?? noRetry;
    const asked = request.timeoutMs ?? this.#options.timeoutMs ?? defaultTimeoutMs;
    const timeoutMs = Math.min(asked, this.#options.maxTimeoutMs ?? asked);
    const deadline = this.#clock.now() + timeoutMs;
    // A retry is made only when its wait leaves time for the next try within the timeout.
    const fits = (wait: number) => deadline - this.#clock.now() - wait > 0;
    let transientRetries = 0;
    let rateLimitRetries = 0;
    for (;;) {
      let response: HttpResponse;
      try {
        const tries = transientRetries + rateLimitRetries + 1;
        response = await this.#once(request, { tries, timeoutMs, budgetMs: deadline - this.#clock.now() });
      } catch (error) {
        const delay = policy.transientDelaysMs[transientRetries];
        const retry =
          error instanceof LatchkeyError &&
          error.retryable &&
          !(this.#options.retryUnreachable === false && isUnreachable(error));
        if (retry && delay !== undefined && fits(delay)) {
          transientRetries += 1;
          this.#debug(`retrying after ${error.code} in ${delay} ms`);
          await this.#clock.sleep(delay, this.#options.signal);
          continue;
        }
        throw error;
      }
      if (response.status === 429 && policy.rateLimit && rateLimitRetries < policy.rateLimit.maxRetries) {
        const wait = parseRetryAfter(response.headers.get('retry-after'), this.#clock.now());
        const allowed = policy.rateLimit.isRetryable?.(response) ?? true;
        if (allowed && wait !== undefined && wait <= policy.rateLimit.maxWaitMs && fits(wait)) {
          rateLimitRetries += 1;
          this.#debug(`429: waiting ${wait} ms as Retry-After asks, then retrying once`);
          await this.#clock.sleep(wait, this.#options.signal);
          continue;
        }
      }
      const structured = (policy.isStructuredError ?? ((r: HttpResponse) => r.isJson))(response);
      let delay = policy.transientDelaysMs[transientRetries];
      if (response.status === 503 && delay !== undefined) {
        // A 503's Retry-After is the server saying when to come back: up to 5 s it replaces the planned wait;
        // longer, the answer is returned at once rather than retried too early.
        const asked = parseRetryAfter(response.headers.get('retry-after'), this.#clock.now());
        if (asked !== undefined) delay = asked <= maxServiceUnavailableWaitMs ? asked : undefined;
      }
      if (response.status >= 500 && !structured && delay !== undefined && fits(delay)) {
        transientRetries += 1;
        this.#debug(`retrying HTTP ${response.status} in ${delay} ms`);
        await this.#clock.sleep(delay, this.#options.signal);
        continue;
      }
      return response;
    }
  }

  async #once(
    request: HttpRequest,
    { tries, timeoutMs, budgetMs }: { tries: number; timeoutMs: number; budgetMs: number },
  ): Promise<HttpResponse> {
    const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
    const method =
      request.method ??
      (request.json !== undefined || request.form || request.body !== undefined ? 'POST' : 'GET');
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'x-client-name': this.#options.clientName,
      'x-client-version': this.#options.clientVersion,
      accept: 'application/json',
      ...this.#options.headers,
      ...request.headers,
    };
    let body: string | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.body !== undefined) {
      body = request.body;
    }
    if (request.bearer !== undefined) headers.authorization = `Bearer ${request.bearer}`;

    const outer = this.#options.signal;
    if (outer?.aborted) throw cancelledError();
    // The request ends at the first of: the time left in the budget, Ctrl-C, or our own abort on failure.
    const controller = new AbortController();
    const timeout = AbortSignal.timeout(Math.min(Math.max(0, budgetMs), maxTimerMs));
    const signal = AbortSignal.any(
      outer ? [controller.signal, timeout, outer] : [controller.signal, timeout],
    );
    const maxBytes = request.maxResponseBytes ?? this.#options.maxResponseBytes ?? defaultMaxResponseBytes;
    const started = this.#clock.now();
    this.#debug(`-> ${method} ${url.origin}${url.pathname}`);
    try {
      const fetch = await (this.#fetch ??= this.#chooseFetch());
      const res = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
      const text = await readBounded(res, maxBytes, url);
      const parsed = parseBody(text, res.headers.get('content-type'));
      this.#debug(`<- ${res.status} ${url.pathname} (${this.#clock.now() - started} ms)`);
      return {
        status: res.status,
        headers: res.headers,
        text,
        body: parsed.body,
        isJson: parsed.isJson,
        url: url.toString(),
      };
    } catch (error) {
      controller.abort(); // whatever went wrong, nothing more is read from this connection
      if (outer?.aborted) throw cancelledError();
      if (error instanceof LatchkeyError) throw error;
      if (timeout.aborted) {
        throw new LatchkeyError({
          code: 'TIMEOUT',
          message: `${url.host} did not answer within ${formatSeconds(timeoutMs)} (${tries} ${tries === 1 ? 'try' : 'tries'}).`,
          action: 'Check your network connection and the server address, then try again.',
          retryable: true,
          cause: error,
        });
      }
      throw networkError(url, error);
    }
  }

  async #chooseFetch(): Promise<typeof globalThis.fetch> {
    if (this.#options.fetch) return this.#options.fetch;
    if (this.#options.env && proxyConfigured(this.#options.env)) return createProxyFetch(this.#options.env);
    return globalThis.fetch;
  }

  #debug(line: string): void {
    this.#options.debug?.(redact(line));
  }
}

/**
 * The body as text, reading at most `maxBytes` decoded bytes from the stream: past the cap the stream is
 * cancelled (so a compression bomb is never inflated further) and RESPONSE_TOO_LARGE is thrown.
 */
async function readBounded(res: Response, maxBytes: number, url: URL): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  if (!encoded && Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw responseTooLarge(url, maxBytes);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw responseTooLarge(url, maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks, total));
}

/** "1 MiB", "64 KiB", "1000 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** "15 s", "0.5 s". */
function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${seconds >= 1 ? Math.round(seconds) : Math.round(seconds * 10) / 10} s`;
}

/** A body over the cap (exit 1, not retryable: the same server would send it again). */
export function responseTooLarge(url: URL, maxBytes: number): LatchkeyError {
  return new LatchkeyError({
    code: 'RESPONSE_TOO_LARGE',
    message: `${url.host} sent a response larger than ${formatBytes(maxBytes)}; latchkey stopped reading it.`,
    action:
      'Check that the base URL points at the API server (not a file or web page); if it does, the server is misbehaving: report it.',
    retryable: false,
  });
}

function parseBody(text: string, contentType: string | null): { body: unknown; isJson: boolean } {
  const trimmed = text.trim();
  if (trimmed === '') return { body: undefined, isJson: false };
  const looksJson = (contentType ?? '').includes('json') || /^[[{"]/.test(trimmed);
  if (!looksJson) return { body: undefined, isJson: false };
  try {
    return { body: JSON.parse(trimmed) as unknown, isJson: true };
  } catch {
    return { body: undefined, isJson: false };
  }
}

/** The system error code under a failed fetch (`ECONNREFUSED`, `ENOTFOUND`, ...), when there is one. */
function systemCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string } } | undefined)?.cause;
  return cause?.code ?? (error as { code?: string } | undefined)?.code;
}

/** Codes that say no server is there to answer: nothing to gain from asking again a moment later. */
const unreachableCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True for a NETWORK_ERROR whose connection was refused or whose host name did not resolve. */
function isUnreachable(error: LatchkeyError): boolean {
  const code = error.code === 'NETWORK_ERROR' ? systemCode(error.cause) : undefined;
  return code !== undefined && unreachableCodes.has(code);
}

function networkError(url: URL, error: unknown): LatchkeyError {
  const code = systemCode(error);
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'the connection was refused',
    ECONNRESET: 'the connection was reset',
    UND_ERR_SOCKET: 'the connection was closed before an answer arrived',
    ENOTFOUND: 'the host name could not be resolved',
    EAI_AGAIN: 'the host name could not be resolved',
    ETIMEDOUT: 'the connection timed out',
    CERT_HAS_EXPIRED: 'its TLS certificate has expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed (set NODE_EXTRA_CA_CERTS to trust it)',
  };
  const reason = (code && reasons[code]) ?? 'the request failed';
  return new LatchkeyError({
    code: 'NETWORK_ERROR',
    message: `Could not reach ${url.host}: ${reason}.`,
    action:
      'Check your network connection (and HTTPS_PROXY if you use a proxy) and the server address, then try again.',
    retryable: true,
    cause: error,
  });
}

/** Describes a body that is not the JSON the caller expected, as a clear error rather than a parse crash. */
export function unexpectedResponse(response: HttpResponse): LatchkeyError {
  const host = new URL(response.url).host;
  const what =
    response.text.trim() === ''
      ? 'an empty body'
      : /^\s*</.test(response.text)
        ? 'an HTML page'
        : response.isJson
          ? 'a JSON body latchkey does not understand'
          : 'a body that is not JSON';
  const serverTrouble = response.status >= 500 || response.status === 429;
  return new LatchkeyError({
    code: 'UNEXPECTED_RESPONSE',
    message: `Unexpected response from ${host}: HTTP ${response.status} with ${what}.`,
    action: serverTrouble
      ? 'The server or a proxy in front of it is having trouble; try again in a minute.'
      : 'Check that the base URL points at the API server, not a web page or a proxy login page.',
    retryable: serverTrouble,
    status: response.status,
  });
}
