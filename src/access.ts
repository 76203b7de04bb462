import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import * as core from '@actions/core'
import { UserError, errorMessage } from './errors.js'
import type { ApiServer, Inputs } from './inputs.js'
export { maskEndpoint } from './mask.js'

/**
 * Access to SkyPilot: a remote API server (endpoint + service-account token) or cloud credentials
 * on the runner. Everything here is in place before the first `sky` command: a local API server
 * keeps the environment it was started with.
 */

export interface Access {
  /** Env added to every `sky` process (never logged). */
  env: Record<string, string>
  /** Files this step wrote that hold credentials; the post step removes them. */
  files: string[]
  /** Clouds whose credentials are present on the runner (for the default extras and the summary). */
  cloudsFromCredentials: string[]
  server?: ServerInfo
}

export interface ServerInfo {
  /** Endpoint without any user:password, safe to show. */
  url: string
  version?: string
  user?: string
}

/** Which clouds' credentials the official auth actions (or the user) left in the environment. */
export function cloudsFromEnv(env: NodeJS.ProcessEnv, hasKubeconfigInput: boolean): string[] {
  const clouds: string[] = []
  if (env.AWS_ACCESS_KEY_ID || env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_PROFILE) clouds.push('aws')
  if (env.GOOGLE_APPLICATION_CREDENTIALS || env.CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE) clouds.push('gcp')
  if (env.AZURE_CLIENT_ID || env.AZURE_CONFIG_DIR) clouds.push('azure')
  if (hasKubeconfigInput || env.KUBECONFIG) clouds.push('kubernetes')
  return clouds
}

/** Writes credential files and prepares the env of `sky`. Call before any `sky` command. */
export function prepareAccess(inputs: Inputs, temp: string, env: NodeJS.ProcessEnv = process.env): Access {
  const access: Access = { env: {}, files: [], cloudsFromCredentials: cloudsFromEnv(env, Boolean(inputs.kubeconfig)) }
  if (inputs.kubeconfig) {
    const dir = path.join(temp, 'skypilot-action')
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const file = path.join(dir, `kubeconfig-${randomUUID().slice(0, 8)}`)
    fs.writeFileSync(file, inputs.kubeconfig, { mode: 0o600 })
    access.files.push(file)
    access.env.KUBECONFIG = file
    // Later steps (kubectl, a janitor) see the same cluster; the post step removes the file.
    core.exportVariable('KUBECONFIG', file)
  }
  if (inputs.apiServer) {
    access.env.SKYPILOT_API_SERVER_ENDPOINT = inputs.apiServer.endpoint
    if (inputs.apiServer.token) access.env.SKYPILOT_SERVICE_ACCOUNT_TOKEN = inputs.apiServer.token
  }
  return access
}

export function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint)
    url.username = ''
    url.password = ''
    return url.toString().replace(/\/+$/, '')
  } catch {
    return '(invalid endpoint)'
  }
}

/**
 * Asks the server who and what it is (`GET /api/health`). Fails with what to do when it cannot be
 * reached or the token is refused: before any `sky` command, so nothing is provisioned.
 */
export async function probeServer(server: ApiServer, timeoutMs = 15_000): Promise<ServerInfo> {
  const url = new URL(server.endpoint)
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (url.username || url.password) {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
  }
  if (server.token) headers.Authorization = `Bearer ${server.token}`
  const shown = safeEndpoint(server.endpoint)
  const credentials = [server.token, url.password, url.password && decodeURIComponent(url.password)].filter((c): c is string => Boolean(c))
  const sentPassword = !server.token && Boolean(url.username || url.password)
  url.username = ''
  url.password = ''
  const healthUrl = `${url.toString().replace(/\/+$/, '')}/api/health`
  let response: Response
  try {
    response = await fetch(healthUrl, { headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    // fetch's own errors may quote a header (an invalid token is echoed whole): never show credentials.
    const cause = credentials.reduce((text, c) => text.split(c).join('***'), (error as { cause?: { code?: string } }).cause?.code ?? errorMessage(error))
    throw new UserError(
      `Cannot reach the SkyPilot API server at ${shown} (${cause}). Check 'api-server-endpoint' (or vars.SKYPILOT_API_SERVER_ENDPOINT), that the server is running, and that this runner can reach it (self-hosted runner or a public ingress).`
    )
  }
  if (response.status === 401 || response.status === 403) {
    throw new UserError(
      `The SkyPilot API server at ${shown} refused the credentials (HTTP ${response.status}). Check the 'service-account-token' secret (a current token starting with 'sky_'), or the user:password in the endpoint.`
    )
  }
  if (!response.ok) {
    throw new UserError(`The SkyPilot API server at ${shown} answered HTTP ${response.status} to /api/health. Check the server's logs and its ingress.`)
  }
  let body: { version?: unknown; user?: unknown; status?: unknown }
  try {
    body = (await response.json()) as typeof body
  } catch {
    throw new UserError(`${shown}/api/health did not answer JSON: is 'api-server-endpoint' the SkyPilot API server (not its dashboard page or a proxy login)?`)
  }
  const user = body.user && typeof body.user === 'object' ? (body.user as { name?: unknown; id?: unknown }) : undefined
  // /api/health needs no auth: wrong basic-auth credentials still get 200, with `user: null`. Every
  // other request would then fail with 401, after the action had installed SkyPilot for nothing.
  if (sentPassword && !user && (body as { basic_auth_enabled?: unknown }).basic_auth_enabled === true) {
    throw new UserError(
      `The SkyPilot API server at ${shown} did not accept the user and password in 'api-server-endpoint' (it answered as to an anonymous client). Check them: the endpoint must look like https://USER:PASSWORD@host, with the password of a basic-auth user of this server.`
    )
  }
  if (server.token && !user) {
    throw new UserError(
      `The SkyPilot API server at ${shown} did not accept the service-account token (it answered as to an anonymous client). Check that the 'service-account-token' secret is current and belongs to this server.`
    )
  }
  return {
    url: shown,
    version: typeof body.version === 'string' ? body.version : undefined,
    user: user ? String(user.name ?? user.id ?? '') || undefined : undefined
  }
}

/** Minor-version distance between two SkyPilot versions (undefined when either is not x.y.z). */
export function minorDistance(a: string, b: string): number | undefined {
  const pa = /^(\d+)\.(\d+)/.exec(a)
  const pb = /^(\d+)\.(\d+)/.exec(b)
  if (!pa || !pb) return undefined
  if (pa[1] !== pb[1]) return 99
  return Math.abs(Number(pa[2]) - Number(pb[2]))
}

/** Removes the credential files this action wrote. Returns the ones that could not be removed. */
export function removeFiles(files: string[]): string[] {
  const left: string[] = []
  for (const file of files) {
    try {
      fs.rmSync(file, { force: true, recursive: true })
    } catch {
      left.push(file)
    }
  }
  return left
}
