import { defineConfig } from 'vitest/config'

/**
 * The real-jobs tier (`npm run test:real`, second part): the built action runs real jobs on the
 * real Slurm cluster of the real-sky-slurm tool, without an endpoint and through real API servers.
 * It runs after the rest of the real tier, whose servers are stopped by then: on 2 cores everything
 * here is CPU-bound (a real job costs about 50 s of CPU), and two tiers at once only stretch each
 * (SkyPilot's own waits, e.g. for a Slurm allocation, then run out).
 */
export default defineConfig({
  test: {
    include: ['test/real/jobs-*.test.ts'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/helpers/temp-root.ts', 'test/real/lib/jobs-setup.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 600_000,
    // The two files side by side, each with at most two real scenarios at once.
    maxWorkers: 2,
    maxConcurrency: 2
  }
})
