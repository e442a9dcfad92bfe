import { isLatchkeyError } from '@latchkey/errors';
import { describe, expect, it } from 'vitest';
import { createFakeClock } from './clock.js';

describe('createFakeClock', () => {
  it('starts where told and moves only when advanced', () => {
    const clock = createFakeClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });

  it('sleep records the wait, moves time at once and resolves on a later macrotask', async () => {
    const clock = createFakeClock(0);
    let resolved = false;
    const sleeping = clock.sleep(2000).then(() => {
      resolved = true;
    });
    expect(clock.now()).toBe(2000);
    expect(clock.sleeps).toEqual([2000]);
    await Promise.resolve();
    expect(resolved).toBe(false);
    await sleeping;
    expect(resolved).toBe(true);
    await clock.sleep(500);
    expect(clock.sleeps).toEqual([2000, 500]);
    expect(clock.now()).toBe(2500);
  });

  it('lets real I/O finish between sleeps', async () => {
    const clock = createFakeClock(0);
    let ioDone = false;
    setImmediate(() => {
      ioDone = true;
    });
    await clock.sleep(10);
    await clock.sleep(10);
    expect(ioDone).toBe(true);
  });

  it('rejects with a cancelled error when the signal is already aborted, without waiting', async () => {
    const clock = createFakeClock(0);
    const controller = new AbortController();
    controller.abort();
    const error: unknown = await clock.sleep(1000, controller.signal).catch((e: unknown) => e);
    expect(isLatchkeyError(error) && error.code === 'CANCELLED' && error.exitCode === 130).toBe(true);
    expect(clock.sleeps).toEqual([]);
    expect(clock.now()).toBe(0);
  });

  it('rejects with a cancelled error when the signal aborts during the sleep', async () => {
    const clock = createFakeClock(0);
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ code: 'CANCELLED', exitCode: 130 });
  });
});
