import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file in its own process: lock state is per process, and the addon
    // installs a process-wide signal handler.
    pool: 'forks',
    // Hang protection only: no test asserts on elapsed time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
