import { describe, expect, it } from 'vitest'
import { fake, fakeServer, withSky, withoutJobPrefixes } from '../helpers/fakes.js'
import { annotations, everythingVisible, runMain, runMainThenPost } from '../helpers/runner.js'
import { KUBECONFIG, KUBECONFIG_PLAIN, KUBECONFIG_SECRETS } from '../fixtures/kubeconfig.js'

/** Credentials that never fail a run late, and never show: the built bundle, against the double. */

const HELLO = 'name: hello\nrun: echo "hello from the job"\n'

/** A token shaped as a SkyPilot server mints it (an HS256 JWT after `sky_`), signature faked. */
function serviceAccountToken(expSeconds: number): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const payload = { i: 'sky', t: expSeconds - 86_400, u: 'sa-952d756289360ab8', k: 'k0123456789abcde', y: 'sa', e: expSeconds, exp: expSeconds }
  return `sky_${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2lnbmF0dXJlLW5vdC12ZXJpZmllZA`
}

/** The log lines the action itself printed (no ::add-mask:: line, no mask applied). */
const ownLines = (stdout: string) => stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n')

describe('service-account token expiry', () => {
  const token = serviceAccountToken(Date.parse('2021-03-04T05:06:07Z') / 1000)

  it.each([
    ['launch', { 'task-yaml': HELLO }],
    ['down', { mode: 'down', 'cluster-name': 'gha-old-cluster' }]
  ])('an expired token fails mode %s before any sky call, with the date and without the token', async (_, inputs) => {
    // The server would take the token: only the expiry check stops the run.
    const server = await fakeServer({ version: '0.14.1', token })
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { ...inputs, 'api-server-endpoint': server.url, 'service-account-token': token } }))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('INVALID')
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/'service-account-token' expired at 2021-03-04T05:06:07Z/)
    expect(error).toMatch(/Users → Service accounts/)
    expect(s.calls()).toEqual([])
    expect(server.requests).toEqual([])
    // Not shown, and not even written before the runner's masks apply.
    for (const text of [everythingVisible(main), ownLines(main.stdout), main.stderr]) {
      expect(text).not.toContain(token)
      for (const part of token.slice('sky_'.length).split('.')) expect(text).not.toContain(part)
    }
  })
})

describe('kubeconfig: only its credentials are masked', () => {
  it('a job that prints the kubeconfig shows its plain lines, and *** for each credential', async () => {
    // The job sees the runner's env (KUBECONFIG included) and prints the file the action wrote.
    const s = fake({ job: { inheritEnv: true } })
    const { main, post } = await runMainThenPost(withSky(s, { inputs: { 'task-yaml': 'name: show\nrun: cat "$KUBECONFIG"\n', kubeconfig: KUBECONFIG } }))
    expect(main.code).toBe(0)
    expect(post.code).toBe(0)
    const log = withoutJobPrefixes(everythingVisible(main))
    const lines = log.split('\n').map((l) => l.trim())
    expect(lines).toContain('apiVersion: v1')
    expect(lines).toContain('- name: default')
    for (const plain of KUBECONFIG_PLAIN) expect(log).toContain(plain)
    for (const secret of KUBECONFIG_SECRETS) expect(log).not.toContain(secret)
    // Each credential's line is still there, its value replaced.
    for (const line of ['token: ***', 'password: ***', 'client-key-data: ***', 'client-certificate-data: ***', 'client-secret: ***', 'id-token: ***', 'refresh-token: ***', 'access-token: ***', '- --client-secret=***', 'proxy-url: http://***@proxy.example.com:3128']) {
      expect(lines).toContain(line)
    }
    expect(log.match(/^\s*value: \*\*\*$/gm)).toHaveLength(2) // AWS_SECRET_ACCESS_KEY, VAULT_TOKEN (the PEM is a block)
    expect(s.ledger().clusters).toEqual([])
  })

  it('a kubeconfig that is no mapping fails before any sky call, saying what to give, quoting nothing', async () => {
    const s = fake()
    const main = await runMain(withSky(s, { inputs: { 'task-yaml': HELLO, kubeconfig: '/home/runner/.kube/config-with-secret-name' } }))
    expect(main.code).toBe(1)
    expect(main.outputs.status).toBe('INVALID')
    const error = annotations(main.stdout, 'error').join('\n')
    expect(error).toMatch(/'kubeconfig' is not a kubeconfig: it must be a YAML mapping .*kubectl config view --raw/)
    expect(ownLines(main.stdout)).not.toContain('config-with-secret-name')
    expect(s.calls()).toEqual([])
  })
})
