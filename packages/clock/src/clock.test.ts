import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';

describe('systemClock.sleep', () => {
  it('takes a wait too long for a Node timer without a TimeoutOverflowWarning, and is still cancellable', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      let settled = false;
      const sleeping = systemClock.sleep(3e12, controller.signal).finally(() => (settled = true));
      // An overflowing timer would fire after 1 ms; give it several times that.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(settled).toBe(false);
      controller.abort();
      await expect(sleeping).rejects.toMatchObject({ code: 'CANCELLED', exitCode: 130 });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('treats NaN and negative waits as no wait', async () => {
    // Raced against a generous timer rather than measured: a NaN read as "forever" never resolves, while
    // a loaded machine may well take more than a few milliseconds to get back to this test.
    const outcome = (wait: number) =>
      Promise.race([
        systemClock.sleep(wait).then(() => 'slept'),
        new Promise((resolve) => setTimeout(resolve, 5_000, 'still waiting')),
      ]);
    expect(await outcome(Number.NaN)).toBe('slept');
    expect(await outcome(-5)).toBe('slept');
  });

  it('resolves after a short wait, and rejects with CANCELLED (not an AbortError) for an aborted signal', async () => {
    const started = Date.now();
    await systemClock.sleep(5, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4);
    await expect(systemClock.sleep(10, AbortSignal.abort())).rejects.toMatchObject({
      code: 'CANCELLED',
      exitCode: 130,
    });
  });
});
