import { describe, expect, it } from 'vitest';
import { LatchkeyError } from '@latchkey/errors';
import type { Clock } from './clock.js';
import { runDeviceFlow, type DeviceAuthorization } from './device-flow.js';
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
async function run(script: Array<PollStep<string> | LatchkeyError>, over: Partial<DeviceAuthorization> = {}) {
  const clock = fakeClock();
  const polls: number[] = [];
  let i = 0;
  const result = runDeviceFlow({
    clock,
    start: async () => auth(over),
    onVerification: () => undefined,
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

  it('backs off by doubling on transport failures without giving up, then resets', async () => {
    const { result, polls } = await run([transient(), transient(), transient(), pending, done], {
      interval: 2,
    });
    await result;
    expect(polls).toEqual([2000, 6000, 14000, 30000, 32000]);
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
});
