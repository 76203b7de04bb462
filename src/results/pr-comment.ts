import fs from 'node:fs'
import * as core from '@actions/core'

/**
 * `comment-on-pr`: the run's report as ONE comment on the pull request, updated in place on later
 * runs. A hidden marker in the comment names the workflow, job, matrix cell and step, so two steps
 * (or two cells) keep a comment each. Nothing here fails the step: a pull-request comment is a
 * courtesy, the run's result is the job's. On a fork's pull request GitHub gives the workflow a
 * read-only token: the comment is refused (403), which is a warning.
 */

/** GitHub refuses a comment body over 65536 characters. */
export const MAX_COMMENT_CHARS = 65_536
/** How long one API call may take before the comment is given up. */
const REQUEST_TIMEOUT_MS = 30_000

export interface PullRequest {
  owner: string
  repo: string
  number: number
  /** From a fork (event pull_request*): GitHub gives such runs a read-only token. */
  fork: boolean
}

/** Events whose payload holds `pull_request`. pull_request_target runs with the base's token. */
const PR_EVENTS = new Set(['pull_request', 'pull_request_target', 'pull_request_review', 'pull_request_review_comment'])

interface PullRequestPayload {
  pull_request?: { number?: number; head?: { repo?: { full_name?: string } | null }; base?: { repo?: { full_name?: string } } }
  issue?: { number?: number; pull_request?: unknown }
}

/** The pull request this run is about, or why there is none. Reads the runner's event file. */
export function pullRequestOf(env: NodeJS.ProcessEnv = process.env): PullRequest | { skip: string } {
  const event = env.GITHUB_EVENT_NAME ?? ''
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/')
  if (!owner || !repo) return { skip: 'GITHUB_REPOSITORY is not set: not running in a workflow.' }
  let payload: PullRequestPayload = {}
  try {
    if (env.GITHUB_EVENT_PATH) payload = JSON.parse(fs.readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as PullRequestPayload
  } catch (error) {
    return { skip: `the event file could not be read (${error instanceof Error ? error.message : String(error)}).` }
  }
  if (PR_EVENTS.has(event) && typeof payload.pull_request?.number === 'number') {
    const head = payload.pull_request.head?.repo?.full_name
    const base = payload.pull_request.base?.repo?.full_name ?? `${owner}/${repo}`
    // A deleted fork has no head repository: still not the base.
    const fork = event !== 'pull_request_target' && head !== base
    return { owner, repo, number: payload.pull_request.number, fork }
  }
  if (event === 'issue_comment' && payload.issue?.pull_request && typeof payload.issue.number === 'number') {
    return { owner, repo, number: payload.issue.number, fork: false }
  }
  return { skip: `this run was triggered by '${event || 'unknown'}', not by a pull request: no comment.` }
}

/** Names the step's comment: workflow, job, matrix cell and step (GITHUB_ACTION is the step's id). */
export function commentKey(env: NodeJS.ProcessEnv = process.env, jobIndex = ''): string {
  return [env.GITHUB_WORKFLOW ?? '', env.GITHUB_JOB ?? '', jobIndex, env.GITHUB_ACTION ?? ''].join('/')
}

/** The hidden first line of the comment. Encoded: a key cannot end the HTML comment or hold `--`. */
export function commentMarker(key: string): string {
  return `<!-- skypilot-action:${encodeURIComponent(key).replace(/-/g, '%2D')} -->`
}

/** The comment's body: the marker, the report, cut to GitHub's limit with a link to the rest. */
export function commentBody(key: string, markdown: string, runUrl?: string): string {
  const marker = commentMarker(key)
  const footer = runUrl ? `\n\n<sub>[Run logs and full summary](${runUrl})</sub>\n` : '\n'
  let text = markdown.trimEnd()
  const room = MAX_COMMENT_CHARS - marker.length - footer.length - 200
  if (text.length > room) {
    text = text.slice(0, text.lastIndexOf('\n', room))
    // A cut inside a code block (the chart) would swallow the rest: close it.
    if ((text.match(/^```/gm) ?? []).length % 2 === 1) text += '\n```'
    text += `\n\n*(The report is cut here: GitHub takes at most ${MAX_COMMENT_CHARS} characters in a comment.${runUrl ? ' The run\'s summary has all of it.' : ''})*`
  }
  return `${marker}\n${text}${footer}`
}

export type CommentResult =
  | { kind: 'created' | 'updated'; id: number; url?: string }
  | { kind: 'skipped'; message: string }
  | { kind: 'failed'; message: string }

export interface CommentOptions {
  token?: string
  /** The report, in markdown (the summary's). */
  markdown: string
  /** From commentKey(). */
  key: string
  runUrl?: string
  env?: NodeJS.ProcessEnv
}

interface ApiComment {
  id: number
  body?: string | null
  html_url?: string
}

/**
 * Creates the step's comment on the pull request, or updates it. Logs what happened (info on
 * success or skip, a warning on failure) and never throws.
 */
export async function commentOnPullRequest(o: CommentOptions): Promise<CommentResult> {
  const result = await postComment(o)
  if (result.kind === 'skipped') core.info(`comment-on-pr: ${result.message}`)
  else if (result.kind === 'failed') core.warning(result.message)
  else core.info(`Pull-request comment ${result.kind}${result.url ? `: ${result.url}` : ''}.`)
  return result
}

async function postComment(o: CommentOptions): Promise<CommentResult> {
  const env = o.env ?? process.env
  const pr = pullRequestOf(env)
  if ('skip' in pr) return { kind: 'skipped', message: pr.skip }
  if (!o.token) {
    return { kind: 'failed', message: "comment-on-pr: no token to comment with. Leave 'github-token' at its default (${{ github.token }}) and give the job 'permissions: pull-requests: write'." }
  }
  const marker = commentMarker(o.key)
  const body = commentBody(o.key, o.markdown, o.runUrl)
  const where = { owner: pr.owner, repo: pr.repo }
  try {
    // Loaded only here: the GitHub client and its HTTP stack are most of a cold start otherwise.
    const { getOctokit } = await import('@actions/github')
    const octokit = getOctokit(o.token, { baseUrl: env.GITHUB_API_URL || 'https://api.github.com' })
    const request = () => ({ signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    let existing: ApiComment | undefined
    for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...where, issue_number: pr.number, per_page: 100, request: request() })) {
      existing = (page.data as ApiComment[]).find((c) => c.body?.startsWith(marker))
      if (existing) break
    }
    if (existing) {
      const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body, request: request() })
      return { kind: 'updated', id: data.id, url: data.html_url }
    }
    const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: pr.number, body, request: request() })
    return { kind: 'created', id: data.id, url: data.html_url }
  } catch (error) {
    return { kind: 'failed', message: explain(error, pr) }
  }
}

function explain(error: unknown, pr: PullRequest): string {
  const status = (error as { status?: number }).status
  const what = `comment-on-pr: could not comment on pull request #${pr.number}`
  if (status === 403 && pr.fork) {
    return `${what}: it comes from a fork, and GitHub gives a fork's pull-request workflows a read-only token. The run goes on without the comment; its summary has the report.`
  }
  if (status === 403 || status === 401) {
    return `${what} (HTTP ${status}): the token may not write pull-request comments. Give the job 'permissions: pull-requests: write' (and leave 'github-token' at its default).`
  }
  if (status === 404) return `${what} (HTTP 404): the repository or pull request was not found with this token.`
  const message = error instanceof Error ? error.message : String(error)
  return `${what}: ${status ? `HTTP ${status}: ` : ''}${message.split('\n')[0]}`
}
