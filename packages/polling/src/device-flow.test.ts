import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import type { Clock } from '@latchkey/clock';
import { runDeviceFlow, type DeviceAuthorization, type Verification } from './device-flow.js';
import type { PollStep } from './poll.js';

function fakeClock(): Clock & { t: () => number } {
  let now = 0;
  return {
    t: () => now,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted)
        throw new LatchkeyError({ code: 'CANCELLED', message: 'Cancelled.', exitCode: 130 });
      now += ms;
    },
  };
}

const auth = (over: Partial<DeviceAuthorization> = {}): DeviceAuthorization => ({
  deviceCode: 'device-code-secret',
  userCode: 'ABCD-EFGH',
  verificationUri: 'https://example.test/device',
  expiresIn: 600,
  interval: 5,
  ...over,
});

/** Runs the flow with a scripted sequence of poll answers; records the clock time of every poll. */
async function run(
  script: Array<PollStep<string> | LatchkeyError>,
  over: Partial<DeviceAuthorization> = {},
  onVerification: (verification: Verification) => void = () => undefined,
) {
  const clock = fakeClock();
  const polls: number[] = [];
  let i = 0;
  const result = runDeviceFlow({
    clock,
    start: async () => auth(over),
    onVerification,
    poll: async () => {
      polls.push(clock.t());
      const step = script[Math.min(i++, script.length - 1)]!;
      if (step instanceof LatchkeyError) throw step;
      return step;
    },
  });
  return { result, polls, clock };
}

const pending = { status: 'pending' } as const;
const slow = { status: 'slow_down' } as const;
const done = { status: 'done', value: 'token' } as const;
const transient = () => new LatchkeyError({ code: 'NETWORK_ERROR', message: 'reset', retryable: true });

function troubled(script: Array<PollStep<string> | LatchkeyError>, over: Partial<DeviceAuthorization> = {}) {
  const clock = fakeClock();
  const polls: number[] = [];
  const trouble: Array<{ at: number; code: string }> = [];
  let i = 0;
  const result = runDeviceFlow({
    clock,
    start: async () => auth(over),
    onVerification: () => undefined,
    onTrouble: (error) => void trouble.push({ at: clock.t(), code: error.code }),
    poll: async () => {
      polls.push(clock.t());
      const step = script[Math.min(i++, script.length - 1)]!;
      if (step instanceof LatchkeyError) throw step;
      return step;
    },
  });
  return { result, polls, trouble };
}

const serverDown = (n: number) =>
  new LatchkeyError({ code: 'UNEXPECTED_RESPONSE', message: `HTTP 503 #${n}`, retryable: true, status: 503 });

describe('runDeviceFlow', () => {
  it('polls at the server interval, measured from the previous answer', async () => {
    const { result, polls } = await run([pending, pending, done]);
    await expect(result).resolves.toBe('token');
    expect(polls).toEqual([5000, 10000, 15000]);
  });

  it('uses 5 s when the server sends no interval', async () => {
    const { result, polls } = await run([pending, done], { interval: undefined });
    await result;
    expect(polls).toEqual([5000, 10000]);
  });

  it('adds 5 s on slow_down and keeps it for every later poll', async () => {
    const { result, polls } = await run([slow, pending, slow, pending, done]);
    await result;
    expect(polls).toEqual([5000, 15000, 25000, 40000, 55000]);
  });

  it('backs off x1.5 from the interval on transient failures, then resets after an answer', async () => {
    const { result, polls } = await run([transient(), transient(), transient(), pending, done], {
      interval: 2,
    });
    await result;
    expect(polls).toEqual([2000, 4000, 7000, 11500, 13500]);
  });

  it('waits a Retry-After when one is given', async () => {
    const limited = new LatchkeyError({
      code: 'RATE_LIMITED',
      message: '429',
      retryable: true,
      retryAfterMs: 7000,
    });
    const { result, polls } = await run([limited, done], { interval: 2 });
    await result;
    expect(polls).toEqual([2000, 9000]);
  });

  it('waits at most 60 s whatever Retry-After asks', async () => {
    const limited = new LatchkeyError({
      code: 'RATE_LIMITED',
      message: '429',
      retryable: true,
      retryAfterMs: 3e12,
    });
    const { result, polls } = await run([limited, done], { interval: 2 });
    await result;
    expect(polls).toEqual([2000, 62000]);
  });

  it('stops by itself at expires_in with exit 4', async () => {
    const { result, polls, clock } = await run([pending], { expiresIn: 30, interval: 5 });
    await expect(result).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(polls).toEqual([5000, 10000, 15000, 20000, 25000]);
    expect(clock.t()).toBe(30000);
  });

  it('stops at once on a non-retryable error', async () => {
    const denied = new LatchkeyError({ code: 'ACCESS_DENIED', message: 'denied', exitCode: 4 });
    const { result, polls } = await run([pending, denied, done]);
    await expect(result).rejects.toBe(denied);
    expect(polls).toHaveLength(2);
  });

  it('is cancelled by its signal', async () => {
    const controller = new AbortController();
    const clock = fakeClock();
    const flow = runDeviceFlow({
      clock,
      signal: controller.signal,
      start: async () => auth(),
      onVerification: () => controller.abort(),
      poll: async () => pending,
    });
    await expect(flow).rejects.toMatchObject({ exitCode: 130 });
  });

  it('shows the user code and URLs but never the device code', async () => {
    const seen: unknown[] = [];
    const clock = fakeClock();
    await runDeviceFlow({
      clock,
      start: async () => auth({ verificationUriComplete: 'https://example.test/device?user_code=ABCD-EFGH' }),
      onVerification: (v) => void seen.push(v),
      poll: async () => done,
    });
    expect(seen).toEqual([
      {
        userCode: 'ABCD-EFGH',
        verificationUri: 'https://example.test/device',
        verificationUriComplete: 'https://example.test/device?user_code=ABCD-EFGH',
        expiresAt: 600_000,
      },
    ]);
    expect(JSON.stringify(seen)).not.toContain('device-code-secret');
  });

  it('reports a run of failures once, keeps polling, and succeeds when the server recovers', async () => {
    const { result, polls, trouble } = troubled([serverDown(1), serverDown(2), pending, done], {
      interval: 2,
    });
    await expect(result).resolves.toBe('token');
    expect(polls).toEqual([2000, 4000, 7000, 9000]);
    expect(trouble).toEqual([{ at: 2000, code: 'UNEXPECTED_RESPONSE' }]);
  });

  it('reports each new run of failures again after an answer', async () => {
    const { result, trouble } = troubled([serverDown(1), pending, serverDown(2), serverDown(3), done], {
      interval: 2,
    });
    await result;
    expect(trouble.map((t) => t.at)).toEqual([2000, 6000]);
  });

  it('gives up after 5 failures in a row with the last one (exit 1), never as an expired code', async () => {
    const script = [pending, ...[1, 2, 3, 4, 5, 6].map(serverDown)];
    const { result, polls, trouble } = troubled(script, { interval: 5 });
    await expect(result).rejects.toMatchObject({ message: 'HTTP 503 #5', exitCode: 1 });
    expect(polls).toHaveLength(6);
    expect(trouble).toHaveLength(1);
  });

  it('gives up after 60 s of failures even before 5 of them', async () => {
    const script = [1, 2, 3, 4, 5].map(serverDown);
    const { result, polls } = troubled(script, { interval: 30 });
    // Failures at 30 s, 60 s (wait 30 s), 105 s (wait 45 s): 75 s after the first.
    await expect(result).rejects.toMatchObject({ message: 'HTTP 503 #3', exitCode: 1 });
    expect(polls).toEqual([30000, 60000, 105000]);
  });

  it('ends with the server problem, not "expired", when the code runs out during failures', async () => {
    const { result, polls } = troubled([pending, serverDown(1), serverDown(2)], {
      interval: 20,
      expiresIn: 60,
    });
    await expect(result).rejects.toMatchObject({ code: 'UNEXPECTED_RESPONSE', exitCode: 1 });
    expect(polls).toEqual([20000, 40000]);
  });

  it('ends with exit 4 when the server itself says the code expired', async () => {
    const expired = new LatchkeyError({ code: 'DEVICE_CODE_EXPIRED', message: 'expired', exitCode: 4 });
    const { result, trouble } = troubled([serverDown(1), expired], { interval: 2 });
    await expect(result).rejects.toBe(expired);
    expect(trouble).toHaveLength(1);
  });
});

describe('server numbers are clamped', () => {
  it.each([
    { interval: 3e9, polls: [60000, 120000] },
    { interval: 0, polls: [1000, 2000] },
    { interval: -4, polls: [1000, 2000] },
    { interval: 0.2, polls: [1000, 2000] },
    { interval: Number.NaN, polls: [5000, 10000] },
    { interval: Infinity, polls: [5000, 10000] },
    { interval: '7' as unknown as number, polls: [5000, 10000] },
    { interval: undefined, polls: [5000, 10000] },
  ])('interval $interval s: polls at $polls', async ({ interval, polls: expected }) => {
    const { result, polls } = await run([pending, done], { interval });
    await result;
    expect(polls).toEqual(expected);
  });

  it.each([
    // The server's own number when it is shorter than the loop's 30 s floor (the loop still polls 30 s).
    { expiresIn: 3, expiresAt: 3_000 },
    { expiresIn: 12, expiresAt: 12_000 },
    { expiresIn: 0.5, expiresAt: 500 },
    { expiresIn: 1e12, expiresAt: 1_800_000 },
    { expiresIn: -1, expiresAt: 30_000 },
    { expiresIn: 0, expiresAt: 30_000 },
    { expiresIn: Infinity, expiresAt: 600_000 },
    { expiresIn: Number.NaN, expiresAt: 600_000 },
    { expiresIn: undefined, expiresAt: 600_000 },
    { expiresIn: 'soon' as unknown as number, expiresAt: 600_000 },
    { expiresIn: 900, expiresAt: 900_000 },
  ])(
    'expires_in $expiresIn s: the code is shown as expiring at $expiresAt ms',
    async ({ expiresIn, expiresAt }) => {
      const seen: number[] = [];
      await runDeviceFlow({
        clock: fakeClock(),
        start: async () => auth({ expiresIn }),
        onVerification: (v) => void seen.push(v.expiresAt),
        poll: async () => done,
      });
      expect(seen).toEqual([expiresAt]);
    },
  );

  it('a code said to live 12 s is shown as 12 s, while the loop still polls until its 30 s floor', async () => {
    const shown: number[] = [];
    const { result, polls, clock } = await run([pending], { expiresIn: 12, interval: 5 }, (v) =>
      shown.push(v.expiresAt),
    );
    await expect(result).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(shown).toEqual([12_000]);
    expect(polls).toEqual([5000, 10000, 15000, 20000, 25000]);
    expect(clock.t()).toBe(30000);
  });

  it('a huge interval with a short expiry ends at the clamped expiry, with a handful of polls', async () => {
    const { result, polls, clock } = await run([pending], { interval: 3e9, expiresIn: 200 });
    await expect(result).rejects.toMatchObject({ code: 'DEVICE_CODE_EXPIRED', exitCode: 4 });
    expect(polls).toEqual([60000, 120000, 180000]);
    expect(clock.t()).toBe(200000);
  });
});
