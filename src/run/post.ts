import os from 'node:os'
import path from 'node:path'
import { runnerOsProblem } from '../runner-os.js'
import * as core from '@actions/core'
import { maskEndpoint, removeFiles } from '../access.js'
import { errorMessage } from '../errors.js'
import { saveCache } from '../install/install.js'
import { Sky } from '../sky/client.js'
import { postAction } from '../lifecycle.js'
import { loadJson, loadRuns, State } from '../state.js'
import { writeSummary } from '../summary.js'
import { cancelManagedJobs, tearDown, teardownLines, teardownProblem } from './teardown.js'

/**
 * The post step: runs after success, failure and cancellation (post-if: always()). Learns
 * everything from saved state, so it works when main was killed at any point after saving it.
 */
export async function runPost(): Promise<void> {
  // Main refused to run on this OS and left nothing to clean up.
  if (runnerOsProblem(process.env.RUNNER_OS || os.platform())) return
  // What each task's run left, as main last saved it, and what the lifecycle's table says to do.
  const runs = loadRuns()
  const unique = (xs: string[]): string[] => [...new Set(xs)]
  const clusters = unique(runs.filter((r) => postAction(r) === 'tear-down' && r.cluster).map((r) => r.cluster!))
  const openJobs = runs.filter((r) => postAction(r) === 'cancel-and-verify' && r.managed).map((r) => r.managed!)
  const kept = runs.filter((r) => postAction(r) === 'leave-running' && r.cluster && !clusters.includes(r.cluster))
  const skyPath = core.getState(State.skyPath)
  const lines: string[] = []
  let failure: string | undefined
  const fail = (message: string, title: string): void => {
    core.error(message, { title })
    lines.push(`❌ ${message}`)
    failure = failure ? `${failure}\n${message}` : message
  }

  try {
    const skip = (process.env.SKYPILOT_SKIP_TEARDOWN ?? '').toLowerCase() === 'true'
    const needsSky = (clusters.length > 0 || openJobs.length > 0) && !skip
    if (skip && clusters.length > 0) {
      core.warning(`SKYPILOT_SKIP_TEARDOWN is true: cluster ${clusters.join(', ')} is left running. Remove it with: sky down -y ${clusters.join(' ')}`)
      lines.push(`⚠️ Teardown skipped (SKYPILOT_SKIP_TEARDOWN): \`sky down -y ${clusters.join(' ')}\` removes what is left.`)
    }
    if (needsSky) {
      if (!skyPath) throw new Error('main did not record where sky is; nothing can be torn down from here')
      const sky = new Sky(skyPath, await postEnv())
      if (openJobs.length > 0) {
        const names = openJobs.map((j) => j.name)
        core.info(`Main did not see managed job ${names.join(', ')} end: cancelling it by name.`)
        const r = await cancelManagedJobs(sky, names, Math.min(...openJobs.map((j) => j.since ?? 0)))
        for (const j of r.ended) {
          const line = j.status === 'NOT_FOUND' ? `Managed job '${j.name}': the jobs queue holds no such job (it was never created).` : `Managed job '${j.name}'${j.id ? ` (${j.id})` : ''} ended ${j.status} (\`sky jobs queue\`).`
          core.info(line)
          lines.push(line)
        }
        if (r.left.length > 0) {
          const what = r.left.map((j) => `'${j.name}'${j.id ? ` (${j.id}, ${j.status})` : ''}`).join(', ')
          fail(
            r.unknown
              ? `Could not verify that managed job ${what} ended: sky jobs queue failed (${r.unknown}). Check with \`sky jobs queue -a\` and cancel it with: sky jobs cancel -y -n ${r.left[0]!.name}`
              : `Managed job ${what} is still running after cancelling. Cancel it with: sky jobs cancel -y -n ${r.left[0]!.name}`,
            'Managed job left running'
          )
        }
      }
      if (clusters.length > 0) {
        core.info(`Tearing down ${clusters.join(', ')}.`)
        const r = await tearDown(sky, clusters)
        for (const line of teardownLines(r)) {
          core.info(line.replace(/`/g, ''))
          lines.push(line)
        }
        const problem = teardownProblem(r)
        if (problem) fail(problem, r.left.length > 0 ? 'SkyPilot cluster left running' : 'SkyPilot teardown not verified')
      }
    }
    for (const c of unique(kept.map((r) => r.cluster!))) {
      const why = kept.find((r) => r.cluster === c)?.why
      lines.push(`⚠️ Cluster \`${c}\` was left running${why ? ` (${why})` : ' on purpose'}. Remove it with \`sky down -y ${c}\`.`)
    }
  } catch (error) {
    failure = `Teardown failed: ${errorMessage(error)}. Check for clusters left running with \`sky status\` and remove them with \`sky down -y ${clusters.join(' ') || 'NAME'}\`.`
    core.error(failure, { title: 'SkyPilot teardown failed' })
  } finally {
    cleanUp()
  }

  const cacheSave = loadJson<{ key: string; paths: string[] } | undefined>(State.cacheSave, undefined)
  if (cacheSave) await saveCache(cacheSave.key, cacheSave.paths)
  if (lines.length > 0) await writeSummary(`#### SkyPilot teardown\n\n${lines.join('\n\n')}\n`)
  // Each problem was annotated where it was found: fail the step without repeating it.
  if (failure) process.exitCode = 1
}

/**
 * The env main gave sky: the same server endpoint and token, re-read from the inputs (never saved
 * in state). Read directly, without the full input parser: main validated them already, and the
 * post step stays light.
 */
async function postEnv(): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  const endpoint = core.getInput('api-server-endpoint') || env.SKYPILOT_API_SERVER_ENDPOINT?.trim() || ''
  const token = core.getInput('service-account-token') || env.SKYPILOT_SERVICE_ACCOUNT_TOKEN?.trim() || ''
  if (endpoint) {
    maskEndpoint(endpoint)
    env.SKYPILOT_API_SERVER_ENDPOINT = endpoint.replace(/\/+$/, '')
  }
  if (token) {
    core.setSecret(token)
    env.SKYPILOT_SERVICE_ACCOUNT_TOKEN = token
  }
  const kubeconfig = loadJson<string[]>(State.credentialFiles, []).find((f) => path.basename(f).startsWith('kubeconfig-'))
  if (kubeconfig) env.KUBECONFIG = kubeconfig
  return env
}

/** Removes the credential files and temporary checkouts main wrote. */
function cleanUp(): void {
  const files = [...loadJson<string[]>(State.credentialFiles, []), ...loadJson<string[]>(State.tempDirs, [])]
  const left = removeFiles(files)
  if (left.length > 0) core.warning(`Could not remove ${left.join(', ')}; the runner deletes RUNNER_TEMP at the end of the job.`)
}
