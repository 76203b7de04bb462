import { runUrl, type RunnerContext } from '../context.js'
import type { Inputs } from '../inputs.js'
import { commentKey, commentOnPullRequest } from '../results/pr-comment.js'
import { writeSummary } from '../summary.js'

/**
 * Where a step's report goes: the job summary, and with `comment-on-pr` the pull request's one
 * comment of this step (created, then updated on later runs). A comment that cannot be made warns.
 */
export async function publish(markdown: string, inputs: Inputs, ctx: RunnerContext): Promise<void> {
  await writeSummary(markdown)
  if (inputs.commentOnPr) await commentOnPullRequest({ token: inputs.githubToken, markdown, key: commentKey(process.env, inputs.jobIndex), runUrl: runUrl(ctx) })
}
