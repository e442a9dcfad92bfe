/** How `auth status` reads to people: one time format (local, with offset), no "Expires: never" for a rejected token. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localTime } from '../terminal/dates.js';
import { describeStatus, type CredentialStatus } from './status.js';

const base: CredentialStatus = {
  provider: 'acme',
  title: 'Acme',
  account: 'ada',
  active: true,
  source: 'stored',
  backend: 'file',
  baseUrl: 'https://acme.example',
  validity: 'valid',
};

let tz: string | undefined;
beforeEach(() => {
  tz = process.env.TZ;
});
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('localTime: the one time format for people', () => {
  it('local date and time with the offset; not a time: shown as it is', () => {
    process.env.TZ = 'Asia/Kolkata';
    expect(localTime('2027-03-01T00:00:00.000Z')).toBe('2027-03-01 05:30:00 +05:30');
    process.env.TZ = 'America/New_York';
    expect(localTime('2027-03-01T00:00:00.000Z')).toBe('2027-02-28 19:00:00 -05:00');
    expect(localTime('soon')).toBe('soon');
  });
});

describe('describeStatus', () => {
  it('a valid token: its expiry in local time, or "never" when it has none', () => {
    process.env.TZ = 'UTC';
    const text = describeStatus(
      [
        { ...base, expiresAt: '2027-03-01T12:00:00.000Z' },
        { ...base, account: 'bob', active: false },
      ],
      '/cfg',
    );
    expect(text).toContain('  ✓ ada (active): valid\n');
    expect(text).toContain('    Expires:    2027-03-01 12:00:00 +00:00\n');
    expect(text).toContain(
      '  ✓ bob: valid\n    Source:     stored in the file in /cfg protected by its permissions (the key sits beside it)\n    Base URL:   https://acme.example\n    Expires:    never\n',
    );
  });

  it('a rejected token never shows "Expires: never"; its known expiry is still shown', () => {
    process.env.TZ = 'UTC';
    const rejected = describeStatus([{ ...base, validity: 'rejected' }], '/cfg');
    expect(rejected).toContain('  ✗ ada (active): rejected by the server\n');
    expect(rejected).not.toContain('Expires');
    const expired = describeStatus(
      [{ ...base, validity: 'rejected', expiresAt: '2020-01-01T00:00:00Z' }],
      '/cfg',
    );
    expect(expired).toContain('    Expires:    2020-01-01 00:00:00 +00:00\n');
  });

  it('an expired session says so, and to sign in again', () => {
    process.env.TZ = 'UTC';
    const text = describeStatus(
      [{ ...base, validity: 'expired', expiresAt: '2020-01-01T00:00:00Z' }],
      '/cfg',
    );
    expect(text).toContain('  ✗ ada (active): expired (sign in again)\n');
    expect(text).toContain('    Expires:    2020-01-01 00:00:00 +00:00\n');
  });
});
