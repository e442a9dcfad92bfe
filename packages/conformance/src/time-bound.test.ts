import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tasksAtOnce, timeBound, timeScale } from './time-bound.js';

afterEach(() => vi.unstubAllEnvs());

describe('time bounds that stretch on a busy machine', () => {
  it('scales from 1 to 8, never shrinking a bound', () => {
    vi.stubEnv('LATCHKEY_TEST_TIME_SCALE', '');
    const scale = timeScale();
    expect(scale).toBeGreaterThanOrEqual(availableParallelism() >= 4 ? 1 : 4 / availableParallelism());
    expect(scale).toBeLessThanOrEqual(8);
    expect(timeBound(1000)).toBeGreaterThanOrEqual(1000);
  });

  it('LATCHKEY_TEST_TIME_SCALE sets the scale; atMost caps the bound', () => {
    vi.stubEnv('LATCHKEY_TEST_TIME_SCALE', '3');
    expect(timeScale()).toBe(3);
    expect(timeBound(1500)).toBe(4500);
    expect(timeBound(1500, { atMost: 4000 })).toBe(4000);
    vi.stubEnv('LATCHKEY_TEST_TIME_SCALE', '0.5');
    expect(timeScale()).toBeGreaterThanOrEqual(1);
  });

  it('runs as many tasks at once as there are cores (times perCore), at least one', () => {
    expect(tasksAtOnce()).toBe(availableParallelism());
    expect(tasksAtOnce(3)).toBe(availableParallelism() * 3);
    expect(tasksAtOnce(0)).toBe(1);
  });
});
