import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The real tier runs on its own (npm run test:real): it needs the real SkyPilot and its servers.
    exclude: ['test/real/**', '**/node_modules/**'],
    setupFiles: ['test/setup.ts'],
    globalSetup: ['test/helpers/temp-root.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The bundle tests spawn real processes: keep the 2-core machine from thrashing.
    maxWorkers: 2,
    server: {
      deps: {
        // GitHub's parser packages import JSON without an import attribute.
        inline: ['@actions/workflow-parser', '@actions/languageservice', '@actions/expressions']
      }
    }
  }
})
