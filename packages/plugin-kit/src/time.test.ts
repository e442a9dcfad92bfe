import { afterEach, describe, expect, it } from 'vitest';
import { localTime } from './time.js';

const tz = process.env.TZ;
afterEach(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe('localTime', () => {
  it('local date and time with the UTC offset, in the zone people live in', () => {
    process.env.TZ = 'UTC';
    expect(localTime('2027-03-01T12:00:00.000Z')).toBe('2027-03-01 12:00:00 +00:00');
    process.env.TZ = 'Asia/Kolkata';
    expect(localTime('2027-03-01T00:00:00.000Z')).toBe('2027-03-01 05:30:00 +05:30');
    process.env.TZ = 'America/St_Johns';
    expect(localTime('2027-03-01T00:00:00.000Z')).toBe('2027-02-28 20:30:00 -03:30');
  });

  it('anything that is not a time is returned as it is', () => {
    expect(localTime('soon')).toBe('soon');
  });
});
