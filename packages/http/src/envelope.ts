import { ExitCode, LatchkeyError, type ErrorEnvelope } from '@latchkey/errors';
import { parseRetryAfter } from './retry-after.js';
import { standardRetry, type HttpResponse, type RetryPolicy } from './client.js';

/** The `{"error": {code, message, action, retryable, docs}}` body, when the response carries one. */
export function errorEnvelope(response: HttpResponse): ErrorEnvelope | undefined {
  const error = (response.body as { error?: unknown } | undefined)?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message, action, retryable, docs } = error as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  const envelope: ErrorEnvelope = { code, message, retryable: retryable === true };
  if (typeof action === 'string') envelope.action = action;
  if (typeof docs === 'string') envelope.docs = docs;
  return envelope;
}

/**
 * The retry policy for APIs that answer with the error envelope (as one provider's SDK documents it): transient
 * failures (network, 502/503/504, non-envelope 5xx pages) three times at 0.5 s, 1.5 s, 4 s; one 429
 * `RATE_LIMITED` retry when `Retry-After` is at most 5 s; quota 429s and every other envelope: no retry.
 */
export const envelopeRetry: RetryPolicy = {
  ...standardRetry,
  isStructuredError: (response) => errorEnvelope(response) !== undefined,
  rateLimit: {
    maxWaitMs: 5000,
    maxRetries: 1,
    isRetryable: (response) => {
      const code = errorEnvelope(response)?.code;
      return code === undefined || code === 'RATE_LIMITED';
    },
  },
};

/**
 * The server's envelope as latchkey's error, unchanged in meaning: its code, message, action, retryable and
 * docs. 401 is exit 4 (the credential was rejected); a 429 also says how many seconds to wait.
 */
export function envelopeError(response: HttpResponse, envelope: ErrorEnvelope, nowMs: number): LatchkeyError {
  let message = envelope.message;
  let retryAfterMs: number | undefined;
  if (response.status === 429) {
    retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    if (retryAfterMs !== undefined) {
      const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
      if (!message.includes(`${seconds}`)) message = `${message.replace(/\.?$/, '.')} Retry in ${seconds} s.`;
    }
  }
  return new LatchkeyError({
    code: envelope.code,
    message,
    action: envelope.action,
    retryable: envelope.retryable,
    docs: envelope.docs,
    exitCode: response.status === 401 ? ExitCode.Auth : ExitCode.Failure,
    retryAfterMs,
    status: response.status,
  });
}
