import { defineConfig } from 'vitest/config'

/**
 * The real tier (`npm run test:real`, first part): the built action and the test double held against
 * the real SkyPilot CLI and real API servers (test/real/lib/real-sky.ts says where they come from).
 * The real jobs (test/real/jobs-*.test.ts) run after it, on their own: vitest.real-jobs.config.ts.
 */
export default defineConfig({
  test: {
    include: ['test/real/**/*.test.ts'],
    exclude: ['test/real/jobs-*.test.ts', '**/node_modules/**'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/helpers/temp-root.ts', 'test/real/lib/global-setup.ts'],
    // Each real `sky` call is seconds of Python start-up on 2 cores; a fresh server is slower still.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 2
  }
})
