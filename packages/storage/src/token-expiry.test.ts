import { describe, expect, it } from 'vitest';
import { accessTokenDue, refreshMarginMs } from './token-expiry.js';

const NOW = Date.parse('2026-12-02T00:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();
const longAgo = at(-3_600_000);

describe('accessTokenDue', () => {
  it('is due with under 60 s left or past expiry; never without a readable expiry', () => {
    expect(accessTokenDue({ createdAt: longAgo, expiresAt: at(61_000) }, NOW)).toBe(false);
    expect(accessTokenDue({ createdAt: longAgo, expiresAt: at(59_000) }, NOW)).toBe(true);
    expect(accessTokenDue({ createdAt: longAgo, expiresAt: at(-1) }, NOW)).toBe(true);
    expect(accessTokenDue({ createdAt: longAgo }, NOW)).toBe(false);
    expect(accessTokenDue({ createdAt: longAgo, expiresAt: 'garbage' }, NOW)).toBe(false);
  });

  it('a token that lives a minute or less is due at half its lifetime, counted from the last refresh', () => {
    // Issued 2 s ago for 30 s: 28 s left is not due (refreshing it would give another 30 s token, not 60).
    const fresh = { createdAt: longAgo, renewedAt: at(-2_000), expiresAt: at(28_000) };
    expect(refreshMarginMs(fresh)).toBe(15_000);
    expect(accessTokenDue(fresh, NOW)).toBe(false);
    expect(accessTokenDue(fresh, NOW + 13_500)).toBe(true);
    // Without a refresh yet, the lifetime counts from when the account was stored.
    expect(refreshMarginMs({ createdAt: at(-1_000), expiresAt: at(9_000) })).toBe(5_000);
  });

  it('a token that lives longer than a minute keeps the 60 s margin', () => {
    expect(refreshMarginMs({ createdAt: at(0), expiresAt: at(61_000) })).toBe(60_000);
    expect(refreshMarginMs({ createdAt: at(0), expiresAt: at(3_600_000) })).toBe(60_000);
    // An expiry before the issue time (a clock jump) is not a lifetime.
    expect(refreshMarginMs({ createdAt: at(0), expiresAt: at(-5) })).toBe(60_000);
  });
});
