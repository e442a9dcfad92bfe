/**
 * A `ProviderContext` that records what a provider does: every request it sends (through the `fetch` of its
 * `HttpClient`) and every call it makes on `ctx.ui`, timed by the context's clock.
 */
import {
  HttpClient,
  parseBaseUrl,
  systemClock,
  type Clock,
  type AuthorizationPrompt,
  type ProviderContext,
  type Verification,
} from '@latchkey/plugin-kit';

/** One request the provider sent, and what came back. */
export interface RecordedExchange {
  method: string;
  url: string;
  /** The request body when it was a string (JSON or form), else undefined. */
  body?: string;
  /** Clock time when the request left. */
  sentAt: number;
  /** Clock time when the answer was handed back to the provider; undefined when none came. */
  answeredAt?: number;
  status?: number;
  /** The raw answer body. */
  responseText?: string;
  /** Set when fetch itself failed (connection refused, reset...). */
  failed?: string;
}

export type UiCall =
  | { method: 'showVerification'; verification: Verification }
  | { method: 'showAuthorization'; url: string; redirectUri: string; paste: boolean }
  | { method: 'info'; message: string }
  | { method: 'warn'; message: string };

export interface RecordingContextOptions {
  baseUrl: string;
  /** `ctx.clock` and the timestamps of the log; default the system clock. */
  clock?: Clock;
  /** The HttpClient's clock (its retry waits); default `clock`. */
  httpClock?: Clock;
  signal?: AbortSignal;
  options?: Record<string, string>;
  /** Called after each answer arrives and before the provider sees it (e.g. to approve a code after a poll). */
  afterResponse?: (exchange: RecordedExchange) => Promise<void> | void;
  /** Per-request timeout of the HttpClient; default 10 s. */
  timeoutMs?: number;
  /** Called when a browser sign-in shows its authorization URL (the test plays the browser). */
  onAuthorization?: (prompt: AuthorizationPrompt) => Promise<void> | void;
}

export interface RecordingContext {
  ctx: ProviderContext;
  exchanges: RecordedExchange[];
  uiCalls: UiCall[];
}

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.toString();
  return input.url;
}

/** Builds a context whose HTTP and UI traffic is recorded. */
export function createRecordingContext(options: RecordingContextOptions): RecordingContext {
  const clock = options.clock ?? systemClock;
  const exchanges: RecordedExchange[] = [];
  const uiCalls: UiCall[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const exchange: RecordedExchange = {
      method: init?.method ?? 'GET',
      url: urlOf(input),
      sentAt: clock.now(),
    };
    if (typeof init?.body === 'string') exchange.body = init.body;
    exchanges.push(exchange);
    let response: Response;
    try {
      response = await globalThis.fetch(input, init);
    } catch (error) {
      exchange.failed =
        error instanceof Error
          ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}`
          : String(error);
      throw error;
    }
    exchange.status = response.status;
    exchange.responseText = await response.clone().text();
    await options.afterResponse?.(exchange);
    exchange.answeredAt = clock.now();
    return response;
  };
  const http = new HttpClient({
    clientName: 'latchkey',
    clientVersion: '0.0.0-conformance',
    fetch: recordingFetch,
    clock: options.httpClock ?? clock,
    timeoutMs: options.timeoutMs ?? 10_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const ctx: ProviderContext = {
    baseUrl: parseBaseUrl(options.baseUrl),
    http,
    clock,
    signal: options.signal ?? new AbortController().signal,
    ui: {
      showVerification: (verification) =>
        void uiCalls.push({ method: 'showVerification', verification: { ...verification } }),
      info: (message) => void uiCalls.push({ method: 'info', message }),
      warn: (message) => void uiCalls.push({ method: 'warn', message }),
      showAuthorization: async (prompt) => {
        uiCalls.push({
          method: 'showAuthorization',
          url: prompt.url.href,
          redirectUri: prompt.redirectUri,
          paste: prompt.paste,
        });
        await options.onAuthorization?.(prompt);
      },
    },
    options: { ...options.options },
  };
  return { ctx, exchanges, uiCalls };
}

/** A parsed JSON object body, or undefined. */
export function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
