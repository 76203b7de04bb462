import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for the GitHub REST endpoints the pull-request comment uses (list with Link-header
 * paging, create, update), recording every request. `writeStatus` answers create and update with
 * that status instead (403: a fork's read-only token).
 */
export interface Comment {
  id: number
  body: string
  user: { login: string }
}

export interface GitHubApi {
  url: string
  comments: Comment[]
  requests: { method: string; url: string; auth?: string; body?: { body?: string } }[]
  writeStatus: number
  /** The requests that change something (create, update). */
  writes(): GitHubApi['requests']
  reset(): void
  close(): Promise<void>
}

export async function startGitHubApi(owner = 'octo', repo = 'ml'): Promise<GitHubApi> {
  let nextId = 1000
  const api = {
    url: '',
    comments: [] as Comment[],
    requests: [] as GitHubApi['requests'],
    writeStatus: 0,
    writes: () => api.requests.filter((r) => r.method !== 'GET'),
    reset: () => {
      api.comments = []
      api.requests = []
      api.writeStatus = 0
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
  const server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (c: Buffer) => (raw += c.toString()))
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x')
      const body = raw ? (JSON.parse(raw) as { body?: string }) : undefined
      api.requests.push({ method: req.method!, url: url.pathname + url.search, auth: req.headers.authorization, body })
      const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(data))
      }
      const list = new RegExp(`^/repos/${owner}/${repo}/issues/(\\d+)/comments$`).exec(url.pathname)
      const one = new RegExp(`^/repos/${owner}/${repo}/issues/comments/(\\d+)$`).exec(url.pathname)
      if (req.method === 'GET' && list) {
        const perPage = Number(url.searchParams.get('per_page') ?? 30)
        const page = Number(url.searchParams.get('page') ?? 1)
        const slice = api.comments.slice((page - 1) * perPage, page * perPage)
        const more = page * perPage < api.comments.length
        const next = `${api.url}${url.pathname}?per_page=${perPage}&page=${page + 1}`
        return send(200, slice, more ? { link: `<${next}>; rel="next"` } : {})
      }
      if (api.writeStatus) return send(api.writeStatus, { message: 'Resource not accessible by integration' })
      if (req.method === 'POST' && list) {
        const c = { id: nextId++, body: body!.body!, user: { login: 'github-actions[bot]' } }
        api.comments.push(c)
        return send(201, { ...c, html_url: `https://github.com/${owner}/${repo}/pull/${list[1]}#issuecomment-${c.id}` })
      }
      if (req.method === 'PATCH' && one) {
        const c = api.comments.find((x) => x.id === Number(one[1]))
        if (!c) return send(404, { message: 'Not Found' })
        c.body = body!.body!
        return send(200, { ...c, html_url: `https://github.com/${owner}/${repo}/pull/7#issuecomment-${c.id}` })
      }
      send(404, { message: 'Not Found' })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return api
}
