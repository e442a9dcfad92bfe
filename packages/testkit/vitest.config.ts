import { defineConfig } from 'vitest/config';

// The standalone-command tests spawn built emulators (the Kaneo one starts better-auth): on a loaded 2-core
// CI machine that can take seconds, so the per-test timeout is generous; every wait inside is bounded.
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 30_000 },
});
