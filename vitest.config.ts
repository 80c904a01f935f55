import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Records which operations of openapi.yaml the tests exercised; see test/support/global-setup.ts.
    globalSetup: ['test/support/global-setup.ts'],
    // Tests start real servers and child processes; the 5 s default is tight on a loaded CI box.
    testTimeout: 15_000,
    hookTimeout: 15_000,
    pool: 'forks',
    watch: false,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
