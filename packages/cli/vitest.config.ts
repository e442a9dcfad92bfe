import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// The e2e suites spawn the built binary (build first: `pnpm exec turbo run build`) and wait on real
// device-flow polls. Every CLI run has its own kill timer (RUN_TIMEOUT_MS) and every time a test asserts
// scales with the machine (testkit's `timeBound`), so these timeouts only catch a hang: generous enough for
// a loaded 2-core machine.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // One test file per core: each one spawns CLI processes of its own (the fault matrix sizes its own
    // pool the same way), so more files at once would only make each of them slower.
    maxWorkers: Math.max(1, availableParallelism()),
  },
});
