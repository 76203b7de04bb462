import path from 'node:path'
import * as core from '../gh/core.js'
import { maskEndpoint, removeFiles } from '../access.js'
import { errorMessage } from '../errors.js'
import { saveCache } from '../install/install.js'
import { Sky } from '../sky/client.js'
import { loadJson, State } from '../state.js'
import { writeSummary } from '../summary.js'
import { cancelManagedJobs, leftRunningMessage, tearDown } from './teardown.js'

/**
 * The post step: runs after success, failure and cancellation (post-if: always()). Learns
 * everything from saved state, so it works when main was killed at any point after saving it.
 */
export async function runPost(): Promise<void> {
  const clusters = loadJson<string[]>(State.clusters, [])
  const keep = loadJson<string[]>(State.keep, [])
  const managedJobs = loadJson<string[]>(State.managedJobs, [])
  const finished = core.getState(State.finished) === 'true'
  const skyPath = core.getState(State.skyPath)
  const lines: string[] = []
  let failure: string | undefined

  try {
    const skip = (process.env.SKYPILOT_SKIP_TEARDOWN ?? '').toLowerCase() === 'true'
    const needsSky = (clusters.length > 0 || (managedJobs.length > 0 && !finished)) && !skip
    if (skip && clusters.length > 0) {
      core.warning(`SKYPILOT_SKIP_TEARDOWN is true: cluster ${clusters.join(', ')} is left running. Remove it with: sky down -y ${clusters.join(' ')}`)
      lines.push(`⚠️ Teardown skipped (SKYPILOT_SKIP_TEARDOWN): \`sky down -y ${clusters.join(' ')}\` removes what is left.`)
    }
    if (needsSky) {
      if (!skyPath) throw new Error('main did not record where sky is; nothing can be torn down from here')
      const sky = new Sky(skyPath, await postEnv())
      if (managedJobs.length > 0 && !finished) {
        core.info(`Main did not see managed job ${managedJobs.join(', ')} finish: cancelling it.`)
        const r = await cancelManagedJobs(sky, managedJobs)
        if (r.cancelled.length > 0) lines.push(`Managed job ${r.cancelled.join(', ')} cancelled (verified with \`sky jobs queue\`).`)
        if (r.left.length > 0) {
          const ids = r.left.map((j) => j.id).join(' ')
          failure = `Managed job ${r.left.map((j) => `${j.id} (${j.status})`).join(', ')} is still running after cancelling. Cancel it with: sky jobs cancel -y ${ids}`
          core.error(failure, { title: 'Managed job left running' })
        }
      }
      if (clusters.length > 0) {
        core.info(`Tearing down ${clusters.join(', ')}.`)
        const r = await tearDown(sky, clusters)
        if (r.removed.length > 0) {
          core.info(`Torn down and verified gone: ${r.removed.join(', ')}.`)
          lines.push(`Cluster ${r.removed.map((c) => `\`${c}\``).join(', ')} torn down (verified with \`sky status\`).`)
        }
        if (r.left.length > 0) {
          const message = leftRunningMessage(r)
          core.error(message, { title: 'SkyPilot cluster left running' })
          lines.push(`❌ ${message}`)
          failure = failure ? `${failure}\n${message}` : message
        }
      }
    }
    for (const c of keep) lines.push(`⚠️ Cluster \`${c}\` was left running on purpose. Remove it with \`sky down -y ${c}\`.`)
  } catch (error) {
    failure = `Teardown failed: ${errorMessage(error)}. Check for clusters left running with \`sky status\` and remove them with \`sky down -y ${clusters.join(' ') || 'NAME'}\`.`
    core.error(failure, { title: 'SkyPilot teardown failed' })
  } finally {
    cleanUp()
  }

  const cacheSave = loadJson<{ key: string; paths: string[] } | undefined>(State.cacheSave, undefined)
  if (cacheSave) await saveCache(cacheSave.key, cacheSave.paths)
  if (lines.length > 0) await writeSummary(`#### SkyPilot teardown\n\n${lines.join('\n\n')}\n`)
  if (failure) core.setFailed(failure)
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
