import * as core from '@actions/core'
import type { Inputs } from '../inputs.js'
import { kubeconfigSecrets } from '../kubeconfig.js'
import { describeMarkerEvent, MarkerReader, OutputBudget } from '../results/markers.js'

/**
 * The job outputs of one step: a reader of `skypilot-output NAME=VALUE` lines for each task's log,
 * all sharing the step's size budget, each saying what it refused. None when `job-outputs` is empty.
 */
export class StepOutputs {
  private readonly budget = new OutputBudget()

  constructor(
    private readonly declared: readonly string[],
    /** Values no output may hold: the step's secrets, tokens and passwords. */
    private readonly secrets: readonly string[]
  ) {}

  reader(where: string): MarkerReader | undefined {
    if (this.declared.length === 0) return undefined
    return new MarkerReader({
      declared: this.declared,
      secrets: this.secrets,
      budget: this.budget,
      onEvent: (event) => {
        if (event.kind === 'set') core.debug(describeMarkerEvent(event, where))
        else if (event.kind === 'undeclared') core.notice(describeMarkerEvent(event, where))
        else core.warning(describeMarkerEvent(event, where))
      }
    })
  }
}

/** Every secret value the step holds: a job output equal to or holding one is refused. */
export function secretValues(inputs: Inputs): string[] {
  const values = [...Object.values(inputs.secrets)]
  if (inputs.apiServer?.token) values.push(inputs.apiServer.token)
  if (inputs.githubToken) values.push(inputs.githubToken)
  // The kubeconfig's credentials, as masked (its other lines, like `apiVersion: v1`, are no secret).
  if (inputs.kubeconfig) {
    const read = kubeconfigSecrets(inputs.kubeconfig)
    values.push(...('secrets' in read ? read.secrets : [inputs.kubeconfig]))
  }
  if (inputs.apiServer) {
    try {
      const url = new URL(inputs.apiServer.endpoint)
      if (url.password) values.push(url.password, decodeURIComponent(url.password))
    } catch {
      // validated when read: an endpoint that is not a URL never gets here
    }
  }
  return values.filter(Boolean)
}
