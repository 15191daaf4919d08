import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure code, in-memory ports, infra assertions) and `platform` (tests that
 * talk to the running local platform: emulators, HTTP front, portal). The platform is started once
 * for the whole run by `test/support/platform-setup.ts` (the JVM of DynamoDB Local is slow to start).
 */
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/workflow/**/*.test.ts', 'test/infra/**/*.test.ts', 'test/contract/**/*.test.ts'],
          exclude: ['test/contract/**/*.platform.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'platform',
          include: ['test/**/*.platform.test.ts', 'test/e2e/**/*.e2e.ts'],
          globalSetup: ['test/support/platform-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
