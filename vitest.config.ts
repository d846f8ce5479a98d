import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local starts once for the whole run (test/helpers/global-setup.ts).
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Forks keep the loopback servers of one file away from another's event loop.
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one on a 2-core CI machine, which ran every file in turn
    // although most of the long ones wait on timers, servers and child processes (vitest 271 s, with two 183 s).
    maxWorkers: 2,
  },
});
