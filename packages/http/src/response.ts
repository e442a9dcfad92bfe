import { LatchkeyError } from '@latchkey/errors';
import { unexpectedResponse, type HttpResponse } from './client.js';
import { parseRetryAfter } from './retry-after.js';

/** A field of a JSON object body, or undefined when the body is not an object. */
export function bodyField<T>(body: unknown, name: string): T | undefined {
  return typeof body === 'object' && body !== null
    ? ((body as Record<string, unknown>)[name] as T)
    : undefined;
}

/**
 * The server's own words in an error body, whichever convention it follows: OAuth's `error_description`,
 * a `message`, a bare `error` string, or `error.message`.
 */
export function serverMessage(response: HttpResponse): string | undefined {
  const error = bodyField<unknown>(response.body, 'error');
  const words = [
    bodyField<unknown>(response.body, 'error_description'),
    bodyField<unknown>(response.body, 'message'),
    error,
    bodyField<unknown>(error, 'message'),
  ];
  return words.find((w): w is string => typeof w === 'string' && w.trim() !== '');
}

/**
 * A 429 as an error that says how long to wait: from `Retry-After`, else from a body's
 * `details.tryAgainIn` (milliseconds; better-auth's rate limiter sends no header).
 */
export function rateLimitedError(response: HttpResponse, nowMs: number, hint?: string): LatchkeyError {
  const tryAgainIn = bodyField<unknown>(bodyField(response.body, 'details'), 'tryAgainIn');
  const waitMs =
    parseRetryAfter(response.headers.get('retry-after'), nowMs) ??
    (typeof tryAgainIn === 'number' && tryAgainIn >= 0 ? tryAgainIn : undefined);
  const seconds = waitMs === undefined ? undefined : Math.max(1, Math.ceil(waitMs / 1000));
  return new LatchkeyError({
    code: 'RATE_LIMITED',
    message: `Too many requests to ${new URL(response.url).host}${seconds === undefined ? '' : `; retry in ${seconds} s`}.`,
    action:
      hint ??
      (seconds === undefined
        ? 'Wait a minute and try again.'
        : `Wait ${seconds} ${seconds === 1 ? 'second' : 'seconds'} and try again.`),
    retryable: true,
    retryAfterMs: waitMs,
    status: 429,
  });
}

/**
 * The failures every endpoint can answer with, whatever the API: 429 (wait), 5xx or a body that is not
 * JSON (an HTML page, an empty body: "unexpected response"). Undefined for anything else, which is the
 * provider's to map.
 */
export function answerFailure(response: HttpResponse, nowMs: number): LatchkeyError | undefined {
  if (response.status === 429) return rateLimitedError(response, nowMs);
  if (response.status >= 500 || !response.isJson) return unexpectedResponse(response);
  return undefined;
}
