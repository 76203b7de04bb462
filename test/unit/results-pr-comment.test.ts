import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { startGitHubApi, type GitHubApi } from '../helpers/github-api.js'
import { MAX_COMMENT_CHARS, commentBody, commentKey, commentMarker, commentOnPullRequest, pullRequestOf } from '../../src/results/pr-comment.js'

let api: GitHubApi
let apiUrl = ''
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pr-comment-'))

beforeAll(async () => {
  api = await startGitHubApi()
  apiUrl = api.url
  // @actions/github reads it once, when first loaded.
  process.env.GITHUB_API_URL = apiUrl
})

afterAll(async () => {
  await api.close()
  fs.rmSync(dir, { recursive: true, force: true })
  delete process.env.GITHUB_API_URL
})

beforeEach(() => {
  api.reset()
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  return () => vi.restoreAllMocks()
})

const TOKEN = 'ghs_0123456789abcdefABCDEF'

function event(name: string, payload: unknown, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}.json`)
  fs.writeFileSync(file, JSON.stringify(payload))
  return {
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: file,
    GITHUB_REPOSITORY: 'octo/ml',
    GITHUB_API_URL: apiUrl,
    GITHUB_WORKFLOW: 'PR eval',
    GITHUB_JOB: 'eval',
    GITHUB_ACTION: 'sky',
    ...extra
  }
}

const samePr = { pull_request: { number: 7, head: { repo: { full_name: 'octo/ml' } }, base: { repo: { full_name: 'octo/ml' } } } }
const forkPr = { pull_request: { number: 7, head: { repo: { full_name: 'someone/ml' } }, base: { repo: { full_name: 'octo/ml' } } } }
const writes = () => api.writes()

describe('the pull request of the run', () => {
  it('from the event file; a fork is told apart; pull_request_target is not a fork\'s read-only run', () => {
    expect(pullRequestOf(event('pull_request', samePr))).toEqual({ owner: 'octo', repo: 'ml', number: 7, fork: false })
    expect(pullRequestOf(event('pull_request', forkPr))).toEqual({ owner: 'octo', repo: 'ml', number: 7, fork: true })
    expect(pullRequestOf(event('pull_request_target', forkPr))).toMatchObject({ fork: false })
    expect(pullRequestOf(event('issue_comment', { issue: { number: 9, pull_request: { url: 'x' } } }))).toMatchObject({ number: 9 })
  })

  it('not a pull request: says so', () => {
    expect(pullRequestOf(event('push', { ref: 'refs/heads/main' }))).toEqual({ skip: "this run was triggered by 'push', not by a pull request: no comment." })
    expect(pullRequestOf(event('issue_comment', { issue: { number: 9 } }))).toHaveProperty('skip')
  })
})

describe('the marker', () => {
  it('one per workflow, job, matrix cell and step, and it cannot end the HTML comment', () => {
    const a = commentMarker(commentKey({ GITHUB_WORKFLOW: 'PR eval', GITHUB_JOB: 'eval', GITHUB_ACTION: 'sky' }, '0'))
    const b = commentMarker(commentKey({ GITHUB_WORKFLOW: 'PR eval', GITHUB_JOB: 'eval', GITHUB_ACTION: 'sky' }, '1'))
    const c = commentMarker(commentKey({ GITHUB_WORKFLOW: 'PR eval', GITHUB_JOB: 'eval', GITHUB_ACTION: '__skypilot-org_skypilot-action_2' }, '0'))
    expect(new Set([a, b, c]).size).toBe(3)
    expect(a).toBe('<!-- skypilot-action:PR%20eval%2Feval%2F0%2Fsky -->')
    const hostile = commentMarker('x --> <script> -- y')
    expect(hostile.slice(4, -3)).not.toMatch(/--|>/)
  })

  it('a report over GitHub\'s limit is cut at a line, an open chart closed, and says where the rest is', () => {
    const long = ['### Report', '```mermaid', ...Array.from({ length: 20_000 }, (_, i) => `    bar [${i}]`), '```'].join('\n')
    const body = commentBody('k', long, 'https://github.com/octo/ml/actions/runs/1')
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_CHARS)
    expect(body.startsWith(commentMarker('k'))).toBe(true)
    expect((body.match(/^```/gm) ?? []).length % 2).toBe(0)
    expect(body).toContain("The report is cut here: GitHub takes at most 65536 characters in a comment. The run's summary has all of it.")
    expect(body).toContain('[Run logs and full summary](https://github.com/octo/ml/actions/runs/1)')
  })
})

describe('create, then update the same comment', () => {
  it('first run creates it, the next updates it in place; other comments are left alone', async () => {
    api.comments.push({ id: 1, body: 'LGTM', user: { login: 'reviewer' } })
    api.comments.push({ id: 2, body: `${commentMarker('other workflow/job//step')}\nnot ours`, user: { login: 'github-actions[bot]' } })
    const env = event('pull_request', samePr)
    const key = commentKey(env, '')

    const first = await commentOnPullRequest({ token: TOKEN, markdown: '### SkyPilot launch: SUCCEEDED\n\n| val_loss | 0.41 |', key, env, runUrl: 'https://github.com/octo/ml/actions/runs/1' })
    expect(first).toEqual({ kind: 'created', id: 1000, url: 'https://github.com/octo/ml/pull/7#issuecomment-1000' })
    expect(writes()).toHaveLength(1)
    expect(writes()[0]).toMatchObject({ method: 'POST', url: '/repos/octo/ml/issues/7/comments', auth: `token ${TOKEN}` })
    expect(writes()[0]!.body!.body).toBe(
      `${commentMarker(key)}\n### SkyPilot launch: SUCCEEDED\n\n| val_loss | 0.41 |\n\n<sub>[Run logs and full summary](https://github.com/octo/ml/actions/runs/1)</sub>\n`
    )

    api.requests = []
    const second = await commentOnPullRequest({ token: TOKEN, markdown: '### SkyPilot launch: FAILED', key, env })
    expect(second).toMatchObject({ kind: 'updated', id: 1000 })
    expect(writes()).toEqual([expect.objectContaining({ method: 'PATCH', url: '/repos/octo/ml/issues/comments/1000', body: { body: `${commentMarker(key)}\n### SkyPilot launch: FAILED\n` } })])
    expect(api.comments.map((c) => c.id)).toEqual([1, 2, 1000])
    expect(api.comments[0]!.body).toBe('LGTM')
    expect(api.comments[1]!.body).toContain('not ours')
  })

  it('two steps keep a comment each', async () => {
    const one = event('pull_request', samePr, { GITHUB_ACTION: 'eval-small' })
    const two = event('pull_request', samePr, { GITHUB_ACTION: 'eval-large' })
    await commentOnPullRequest({ token: TOKEN, markdown: 'small v1', key: commentKey(one), env: one })
    await commentOnPullRequest({ token: TOKEN, markdown: 'large v1', key: commentKey(two), env: two })
    await commentOnPullRequest({ token: TOKEN, markdown: 'small v2', key: commentKey(one), env: one })
    expect(api.comments).toHaveLength(2)
    expect(api.comments.map((c) => c.body.split('\n')[1])).toEqual(['small v2', 'large v1'])
  })

  it('finds its comment past the first page of comments', async () => {
    for (let i = 0; i < 150; i++) api.comments.push({ id: i + 1, body: `comment ${i}`, user: { login: 'someone' } })
    const env = event('pull_request', samePr)
    const key = commentKey(env)
    api.comments.push({ id: 500, body: `${commentMarker(key)}\nold`, user: { login: 'github-actions[bot]' } })
    const r = await commentOnPullRequest({ token: TOKEN, markdown: 'new', key, env })
    expect(r).toMatchObject({ kind: 'updated', id: 500 })
    expect(api.requests.filter((q) => q.method === 'GET').map((q) => q.url)).toEqual([
      '/repos/octo/ml/issues/7/comments?per_page=100',
      '/repos/octo/ml/issues/7/comments?per_page=100&page=2'
    ])
  })
})

describe('never fails the step', () => {
  it('a fork\'s read-only token (403) warns that it is a fork and goes on', async () => {
    api.writeStatus = 403
    const write = vi.mocked(process.stdout.write)
    const r = await commentOnPullRequest({ token: TOKEN, markdown: 'x', key: 'k', env: event('pull_request', forkPr) })
    expect(r.kind).toBe('failed')
    expect(r).toHaveProperty('message', expect.stringMatching(/from a fork, and GitHub gives a fork's pull-request workflows a read-only token/))
    const logged = write.mock.calls.map((c) => String(c[0])).join('')
    expect(logged).toMatch(/^::warning::comment-on-pr: could not comment on pull request #7: it comes from a fork/m)
    expect(logged).not.toContain(TOKEN)
    expect(process.exitCode ?? 0).toBe(0)
  })

  it('a 403 on a non-fork names the permission to add', async () => {
    api.writeStatus = 403
    const r = await commentOnPullRequest({ token: TOKEN, markdown: 'x', key: 'k', env: event('pull_request', samePr) })
    expect(r).toHaveProperty('message', expect.stringContaining("'permissions: pull-requests: write'"))
  })

  it('not a pull request: skipped, no request made', async () => {
    const r = await commentOnPullRequest({ token: TOKEN, markdown: 'x', key: 'k', env: event('push', {}) })
    expect(r.kind).toBe('skipped')
    expect(api.requests).toEqual([])
  })

  it('no token: says how to get one, no request made', async () => {
    const r = await commentOnPullRequest({ token: '', markdown: 'x', key: 'k', env: event('pull_request', samePr) })
    expect(r).toHaveProperty('message', expect.stringContaining('pull-requests: write'))
    expect(api.requests).toEqual([])
  })

  it('an API that cannot be reached warns', async () => {
    const env = { ...event('pull_request', samePr), GITHUB_API_URL: 'http://127.0.0.1:9' }
    const r = await commentOnPullRequest({ token: TOKEN, markdown: 'x', key: 'k', env })
    expect(r.kind).toBe('failed')
  })
})
