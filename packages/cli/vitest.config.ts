import { defineConfig } from 'vitest/config';

// The e2e suites spawn the built binary (build first: `pnpm exec turbo run build`) and wait on real
// device-flow polls, so they need longer timeouts than unit tests; every CLI run has its own kill timer too.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 15_000,
    // The suites mostly wait on poll intervals: run the files side by side even on a 2-CPU machine.
    maxWorkers: 4,
  },
});
