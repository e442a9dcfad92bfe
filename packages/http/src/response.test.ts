import { describe, expect, it } from 'vitest';
import type { HttpResponse } from './client.js';
import { answerFailure, rateLimitedError, serverMessage } from './response.js';

function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const isJson = typeof body === 'object';
  return {
    status,
    headers: new Headers(headers),
    text,
    body: isJson ? body : undefined,
    isJson,
    url: 'https://api.example/x',
  };
}

describe('serverMessage', () => {
  it('reads every common error convention', () => {
    expect(
      serverMessage(response(400, { error: 'invalid_grant', error_description: 'Invalid device code' })),
    ).toBe('Invalid device code');
    expect(serverMessage(response(400, { message: 'bad input', code: 'VALIDATION_ERROR' }))).toBe(
      'bad input',
    );
    expect(serverMessage(response(404, { error: 'invalid_code' }))).toBe('invalid_code');
    expect(serverMessage(response(403, { error: { message: 'origin not allowed' } }))).toBe(
      'origin not allowed',
    );
    expect(serverMessage(response(500, '<html>'))).toBeUndefined();
  });
});

describe('rateLimitedError', () => {
  it('takes the wait from Retry-After, else from details.tryAgainIn', () => {
    expect(rateLimitedError(response(429, {}, { 'retry-after': '7' }), 0)).toMatchObject({
      retryAfterMs: 7000,
      message: expect.stringContaining('retry in 7 s'),
    });
    expect(rateLimitedError(response(429, { details: { tryAgainIn: 12_300 } }), 0)).toMatchObject({
      retryAfterMs: 12_300,
      message: expect.stringContaining('retry in 13 s'),
    });
    expect(rateLimitedError(response(429, {}), 0).retryAfterMs).toBeUndefined();
  });

  it('says "1 second", not "1 seconds"', () => {
    expect(rateLimitedError(response(429, {}, { 'retry-after': '1' }), 0).action).toBe(
      'Wait 1 second and try again.',
    );
    expect(rateLimitedError(response(429, {}, { 'retry-after': '2' }), 0).action).toBe(
      'Wait 2 seconds and try again.',
    );
  });
});

describe('answerFailure', () => {
  it('maps 429, 5xx and non-JSON bodies, and leaves the rest to the provider', () => {
    expect(answerFailure(response(429, {}), 0)?.code).toBe('RATE_LIMITED');
    expect(answerFailure(response(503, { error: 'x' }), 0)).toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      retryable: true,
    });
    expect(answerFailure(response(200, '<html>'), 0)).toMatchObject({
      code: 'UNEXPECTED_RESPONSE',
      retryable: false,
    });
    expect(answerFailure(response(401, { error: 'nope' }), 0)).toBeUndefined();
  });
});
