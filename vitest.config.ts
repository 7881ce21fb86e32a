import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real servers; each file runs in its own process.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Shared 2-core machines: a modest fan-out keeps timing-sensitive real-server tests honest.
    maxWorkers: 2,
  },
});
