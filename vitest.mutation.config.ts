import { defineConfig } from 'vitest/config';

// What Stryker runs against each mutant (stryker.config.mjs): the unit tests only. They are pure and
// fast; the integration tests start real servers and would make every mutant cost seconds.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
