import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import { HttpClient } from '@latchkey/http';
import type { Clock } from '@latchkey/clock';
import type { DeviceAuthorization, PollStep } from '@latchkey/polling';
import { describeTrouble, deviceLogin, stillTryingMessage, type DeviceLoginContext } from './device-login.js';

function fakeClock(): Clock {
  let now = 0;
  return { now: () => now, sleep: async (ms) => void (now += ms) };
}

const authorization: DeviceAuthorization = {
  deviceCode: 'dc-secret-0123456789',
  userCode: 'ABCD-EFGH',
  verificationUri: 'https://acme.example/device',
  interval: 5,
};

const down = (status = 503) =>
  new LatchkeyError({ code: 'UNEXPECTED_RESPONSE', message: `HTTP ${status}`, retryable: true, status });

function context(providerTitle?: string) {
  const lines: string[] = [];
  const shown: string[] = [];
  const ctx: DeviceLoginContext = {
    baseUrl: new URL('https://api.acme.example'),
    http: new HttpClient({ clientName: 'latchkey', clientVersion: '0' }),
    clock: fakeClock(),
    signal: new AbortController().signal,
    ui: {
      showVerification: (v) => void shown.push(v.verificationUri),
      warn: (line) => void lines.push(`warn: ${line}`),
    },
  };
  if (providerTitle !== undefined) ctx.providerTitle = providerTitle;
  return { ctx, lines, shown };
}

function scripted(script: Array<PollStep<string> | LatchkeyError>) {
  let i = 0;
  return async () => {
    const step = script[Math.min(i++, script.length - 1)]!;
    if (step instanceof LatchkeyError) throw step;
    return step;
  };
}

describe('deviceLogin', () => {
  it('shows one "still trying" line per run of failures through ui.warn, and signs in when the server recovers', async () => {
    const { ctx, lines } = context('Acme');
    const token = await deviceLogin(ctx, {
      start: async () => authorization,
      poll: scripted([down(), down(), { status: 'pending' }, down(502), { status: 'done', value: 'tok' }]),
    });
    expect(token).toBe('tok');
    expect(lines).toEqual([
      'warn: Acme is not answering (HTTP 503); still trying...',
      'warn: Acme is not answering (HTTP 502); still trying...',
    ]);
  });

  it('ends with the last server error after 5 failures in a row (exit 1), after one line', async () => {
    const { ctx, lines } = context('Acme');
    const login = deviceLogin(ctx, { start: async () => authorization, poll: scripted([down()]) });
    await expect(login).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', exitCode: 1 });
    expect(lines).toHaveLength(1);
  });

  it('names the server by its host when the host gives no provider title', async () => {
    const { ctx, lines } = context();
    await deviceLogin(ctx, {
      start: async () => authorization,
      poll: scripted([down(), { status: 'done', value: 'tok' }]),
    });
    expect(lines).toEqual(['warn: api.acme.example is not answering (HTTP 503); still trying...']);
  });

  it('refuses an unsafe verification address before the host shows anything', async () => {
    const { ctx, shown, lines } = context('Acme');
    const login = deviceLogin(ctx, {
      start: async () => ({ ...authorization, verificationUriComplete: 'javascript:alert(1)' }),
      poll: scripted([{ status: 'done', value: 'tok' }]),
    });
    await expect(login).rejects.toMatchObject({
      code: 'UNSAFE_VERIFICATION_URI',
      exitCode: 1,
      message:
        'api.acme.example sent an unsafe verification address (verification_uri_complete: it is not an https:// address); latchkey did not show or open it.',
    });
    expect(shown).toEqual([]);
    expect(lines).toEqual([]);
  });
});

describe('describeTrouble', () => {
  it('says what went wrong in a few words', () => {
    expect(describeTrouble(down(429))).toBe('HTTP 429');
    const timeout = new LatchkeyError({
      code: 'TIMEOUT',
      message: 'api.acme.example did not answer within 15 s (1 try).',
      retryable: true,
    });
    expect(stillTryingMessage('Acme', timeout)).toBe(
      'Acme is not answering (no answer within 15 s); still trying...',
    );
    const reset = new LatchkeyError({
      code: 'NETWORK_ERROR',
      message: 'Could not reach api.acme.example: the connection was reset.',
      retryable: true,
    });
    expect(describeTrouble(reset)).toBe('the connection was reset');
  });
});
