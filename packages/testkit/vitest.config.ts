import { defineConfig } from 'vitest/config';

// The standalone-command tests spawn built emulators (the Kaneo one starts better-auth): on a loaded 2-core
// CI machine that can take many seconds. They wait for the ready line (up to 60 s, OUTPUT_TIMEOUT_MS), never
// a fixed time, so the per-test timeout must be longer than that; every wait inside is bounded.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 120_000 },
});
