import { ExitCode, LatchkeyError, registerSecret } from '@latchkey/errors';
import { systemClock, type Clock } from '@latchkey/clock';
import { pollUntil, type GiveUpRule, type PollStep } from './poll.js';

/** What a device authorization request returned (RFC 8628 section 3.2, or a provider's equivalent). */
export interface DeviceAuthorization {
  /** Secret: never shown, logged or put in a URL. */
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /**
   * Seconds until the codes expire, as the server sent it. The poll loop clamps it to [30 s, 30 min] (10 min
   * when absent); the user is shown the server's own number when it is shorter than that.
   */
  expiresIn?: number;
  /** Seconds between polls, as the server sent it: clamped to [1 s, 60 s], 5 s (RFC 8628) when absent. */
  interval?: number;
}

/** What the user must see to approve: everything but the device code. */
export interface Verification {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /**
   * Clock time (ms) at which the code expires, as the server said (a code that lives 12 s: 12 s from now),
   * capped at the poll loop's own deadline (30 min at most).
   */
  expiresAt: number;
}

/** How to run one device flow: how to start, how to read one poll, and how to show the code. */
export interface DeviceFlowOptions<T> {
  /** Asks the server for a device code and a user code. */
  start: () => Promise<DeviceAuthorization>;
  /** One token request. Return pending/slow_down/done; throw a `LatchkeyError` to stop (retryable = back off). */
  poll: (deviceCode: string) => Promise<PollStep<T>>;
  /** Show the user code and URL; called once, before the first poll. */
  onVerification: (verification: Verification) => void | Promise<void>;
  /** Called before each wait (for progress display and tests). */
  onWait?: (wait: { ms: number; reason: string; attempt: number }) => void;
  /**
   * Called once per run of transient poll failures (5xx, HTML pages, resets, timeouts, 429), at its first
   * failure, while the flow keeps polling: show "not answering; still trying". A run that lasts (see
   * `giveUp`) ends the flow with its last failure, never as an expired code.
   */
  onTrouble?: (error: LatchkeyError) => void;
  /** When a run of transient failures ends the flow; default 5 in a row or 60 s. */
  giveUp?: GiveUpRule;
  clock?: Clock;
  signal?: AbortSignal;
  /** Seconds; default 5 (RFC 8628 section 3.2). */
  defaultIntervalSec?: number;
  /** What to tell the user when the code expires. */
  expiredAction?: string;
}

/** The bounds put on a server's numbers (seconds): a zero interval would hammer it, a huge one overflow timers. */
export const intervalBounds = { min: 1, max: 60, default: 5 } as const;
export const expiresInBounds = { min: 30, max: 30 * 60, default: 10 * 60 } as const;

/** A server's number of seconds within `bounds`; the default when it is absent or not a finite number. */
export function clampSeconds(value: unknown, bounds: { min: number; max: number; default: number }): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return bounds.default;
  return Math.min(bounds.max, Math.max(bounds.min, value));
}

/**
 * Runs a device authorization flow to completion: start, show the code, poll at the server's interval,
 * +5 s on every `slow_down` (kept for later polls), back off on transient failures (reported through
 * `onTrouble`, ending the flow with the server's problem after 5 in a row or 60 s), stop by itself when the
 * code expires, and stop with exit 130 when `signal` aborts. The server's interval and expiry are clamped
 * (see `intervalBounds`, `expiresInBounds`) for the loop only: the expiry shown is the server's own
 * number, when it is shorter. The device code is registered for redaction.
 */
export async function runDeviceFlow<T>(options: DeviceFlowOptions<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const authorization = await options.start();
  registerSecret(authorization.deviceCode);
  const startedAt = clock.now();
  // The poll loop is clamped (a code that "lives" 0 s still gets 30 s of polls; a year is cut to 30 min)...
  const expiresAt = startedAt + clampSeconds(authorization.expiresIn, expiresInBounds) * 1000;
  // ...but the user is told the server's own number when it is shorter: a 12 s code says 12 seconds.
  const said = authorization.expiresIn;
  const shownExpiresAt =
    typeof said === 'number' && Number.isFinite(said) && said > 0
      ? Math.min(expiresAt, startedAt + said * 1000)
      : expiresAt;
  const intervalSec = clampSeconds(authorization.interval, {
    ...intervalBounds,
    default: clampSeconds(options.defaultIntervalSec, intervalBounds),
  });
  const verification: Verification = {
    userCode: authorization.userCode,
    verificationUri: authorization.verificationUri,
    expiresAt: shownExpiresAt,
  };
  if (authorization.verificationUriComplete !== undefined) {
    verification.verificationUriComplete = authorization.verificationUriComplete;
  }
  await options.onVerification(verification);
  return pollUntil({
    attempt: () => options.poll(authorization.deviceCode),
    intervalMs: intervalSec * 1000,
    deadline: expiresAt,
    onDeadline: () => deviceCodeExpired(options.expiredAction),
    clock,
    signal: options.signal,
    onWait: options.onWait,
    onTrouble: options.onTrouble,
    giveUp: options.giveUp,
  });
}

/** The code expired before it was approved (exit 4). */
export function deviceCodeExpired(action?: string): LatchkeyError {
  return new LatchkeyError({
    code: 'DEVICE_CODE_EXPIRED',
    message: 'The code expired before it was approved.',
    action: action ?? 'Run the login command again and approve the new code in time.',
    exitCode: ExitCode.Auth,
  });
}

/** The user (or the server) denied the request (exit 4). */
export function deviceAccessDenied(action?: string): LatchkeyError {
  return new LatchkeyError({
    code: 'ACCESS_DENIED',
    message: 'The request was denied.',
    action: action ?? 'Run the login command again and choose Approve if you meant to sign in.',
    exitCode: ExitCode.Auth,
  });
}
