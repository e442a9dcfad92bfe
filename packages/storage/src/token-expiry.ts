// When a stored OAuth access token is due for a refresh: one rule for the fast path and the refresh itself.
import type { AccountRecord } from './types.js';

/** `auth token` hands out an access token valid at least this much longer when the server allows it. */
export const MINIMUM_VALIDITY_MS = 60_000;

/**
 * How close to its expiry an access token is refreshed: a minute, or half its lifetime for tokens that live a
 * minute or less (a fresh one could never be valid for a minute more, and refreshing it again at once would
 * make every concurrent caller refresh).
 */
export function refreshMarginMs(
  record: Pick<AccountRecord, 'expiresAt' | 'createdAt' | 'renewedAt'>,
): number {
  const expiresAt = Date.parse(record.expiresAt ?? '');
  const issuedAt = Date.parse(record.renewedAt ?? record.createdAt);
  const lifetime = expiresAt - issuedAt;
  return Number.isFinite(lifetime) && lifetime > 0 && lifetime <= MINIMUM_VALIDITY_MS
    ? lifetime / 2
    : MINIMUM_VALIDITY_MS;
}

/** The stored access token has expired or is within its refresh margin; false when its expiry is unknown. */
export function accessTokenDue(
  record: Pick<AccountRecord, 'expiresAt' | 'createdAt' | 'renewedAt'>,
  now: number,
): boolean {
  if (record.expiresAt === undefined) return false;
  const at = Date.parse(record.expiresAt);
  return Number.isFinite(at) && at - now < refreshMarginMs(record);
}
