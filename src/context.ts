import os from 'node:os'
import path from 'node:path'

/** What the runner tells a step about where and as what it runs (read from env once). */
export interface RunnerContext {
  workspace: string
  temp: string
  toolCache: string
  runId: string
  runAttempt: string
  job: string
  repository: string
  serverUrl: string
  os: string
  arch: string
}

export function readRunnerContext(env: NodeJS.ProcessEnv = process.env): RunnerContext {
  return {
    workspace: path.resolve(env.GITHUB_WORKSPACE || process.cwd()),
    temp: env.RUNNER_TEMP || os.tmpdir(),
    toolCache: env.RUNNER_TOOL_CACHE || path.join(os.homedir(), '.cache', 'skypilot-action'),
    runId: env.GITHUB_RUN_ID || '',
    runAttempt: env.GITHUB_RUN_ATTEMPT || '1',
    job: env.GITHUB_JOB || '',
    repository: env.GITHUB_REPOSITORY || '',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    os: (env.RUNNER_OS || os.platform()).toLowerCase(),
    arch: (env.RUNNER_ARCH || os.arch()).toLowerCase()
  }
}

/** Link to this run's page, for the summary. */
export function runUrl(ctx: RunnerContext): string | undefined {
  if (!ctx.repository || !ctx.runId) return undefined
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}`
}
