import { defineConfig } from 'vitest/config';

// These suites start real servers and child processes; on a loaded 2-core machine one test can take more
// than vitest's default 5 s. Every wait inside is bounded on its own, so the timeout only catches a hang.
export default defineConfig({
  test: { testTimeout: 60_000, hookTimeout: 60_000 },
});
