// The real-jobs tier's global setup (vitest.real-jobs.config.ts): see setupJobs.
export { setupJobs as default } from './global-setup.js'
