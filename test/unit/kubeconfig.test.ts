import { afterEach, describe, expect, it, vi } from 'vitest'
import { kubeconfigSecrets } from '../../src/kubeconfig.js'
import { INPUT_NAMES, parseInputs, type RawInputs } from '../../src/inputs.js'
import { UserError } from '../../src/errors.js'
import { secretValues } from '../../src/run/job-outputs.js'
import { KUBECONFIG, KUBECONFIG_PLAIN, KUBECONFIG_SECRETS, PRIVATE_KEY_LINES } from '../fixtures/kubeconfig.js'

function secretsOf(text: string): string[] {
  const read = kubeconfigSecrets(text)
  if (!('secrets' in read)) throw new Error(`expected secrets, got: ${read.problem}`)
  return read.secrets
}

function problemOf(text: string): string {
  const read = kubeconfigSecrets(text)
  if (!('problem' in read)) throw new Error('expected a problem')
  return read.problem
}

/** Every value masked (one per ::add-mask:: command), when parseInputs reads `kubeconfig`. */
function masksOf(kubeconfig: string): { masks: string[]; error?: UserError } {
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
  const raw = {} as RawInputs
  for (const name of INPUT_NAMES) raw[name] = ''
  let error: UserError | undefined
  try {
    parseInputs({ ...raw, task: 'task.yaml', kubeconfig }, {})
  } catch (e) {
    error = e as UserError
  }
  const masks = spy.mock.calls
    .map((c) => String(c[0]))
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => l.slice('::add-mask::'.length, -1).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'))
  return { masks, error }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('kubeconfigSecrets: only the credentials of a kubeconfig', () => {
  it('finds every kind of credential client-go reads, and nothing that is not one', () => {
    const secrets = secretsOf(KUBECONFIG)
    const oneLine = KUBECONFIG_SECRETS.filter((s) => !PRIVATE_KEY_LINES.includes(s))
    for (const secret of oneLine) expect(secrets).toContain(secret)
    // The multi-line value whole (maskSecret masks each of its lines too: below).
    expect(secrets).toContain(`${PRIVATE_KEY_LINES.join('\n')}\n`)
    // A password in a proxy URL: it, and user:password, not the URL.
    expect(secrets).toContain('proxyuser:proxy-pass-7Hq2')
    // A value as long as a credential is masked though it is none (azure's apiserver-id, an
    // application id): the safe side, and such a value is no common log text.
    expect(secrets).toContain('6dae42f8-4368-4678-94ff-3960e28e3630')
    expect(secrets).toHaveLength(oneLine.length + 3)
    // Nothing that is no secret: names, URLs, the CA, namespace, username, plain settings.
    const plainValues = ['v1', 'Config', 'default', 'https://k8s.example.com:6443', 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnB1YmxpYy1jYS1kYXRhCg==', 'ml-jobs', 'ci-bot', 'skypilot-ci', 'https://issuer.example.com', '1', 'us-east-1', 'get-token', 'prod', '--region', '--token', 'aws', 'http://proxyuser:proxy-pass-7Hq2@proxy.example.com:3128']
    for (const plain of plainValues) expect(secrets).not.toContain(plain)
  })

  it('masks a secret field whatever it holds, and reads a scalar as the file shows it', () => {
    const text = 'apiVersion: v1\nusers:\n- name: u\n  user:\n    password: 0x1F\n    token: "pw"\n'
    expect(secretsOf(text).sort()).toEqual(['0x1F', '31', 'pw'])
  })

  it('exec: an option whose name says credential masks its value; option names and short words stay', () => {
    const text = 'users:\n- name: u\n  user:\n    exec:\n      command: plugin\n      args: [--password, pw1, --api-key=k2, --region=eu, -n, ns, a-long-positional-credential]\n      env: [{name: A, value: b}, {name: DB_PASS, value: x}]\n'
    expect(secretsOf(text).sort()).toEqual(['a-long-positional-credential', 'k2', 'pw1', 'x'])
  })

  it('a kubeconfig without users or with odd shapes has no secrets to find, and is no problem', () => {
    expect(secretsOf('apiVersion: v1\nkind: Config\nclusters: []\n')).toEqual([])
    expect(secretsOf('users: {not: a list}\nclusters: [7, null, {cluster: 3}]\n')).toEqual([])
    expect(secretsOf('users:\n- name: u\n  user: null\n- name: v\n')).toEqual([])
  })

  it.each([
    ['not YAML', 'apiVersion: v1\nusers: [\n', /'kubeconfig' is not valid YAML \(line \d+, column \d+\)\. Give the kubeconfig file's content/],
    ['a duplicate key', 'users: []\nusers: []\n', /'kubeconfig' is not valid YAML \(line 2, column 1\)/],
    ['a path', '~/.kube/config', /'kubeconfig' is not a kubeconfig: it must be a YAML mapping .*not a path/],
    ['a list', '- name: default\n', /'kubeconfig' is not a kubeconfig: it must be a YAML mapping/],
    ['aliases', 'users:\n- &u {name: u, user: {token: abc-secret-xyz}}\n- *u\n', /'kubeconfig' uses YAML anchors or aliases/],
    ['two documents', 'apiVersion: v1\n---\napiVersion: v1\n', /'kubeconfig' holds more than one YAML document/]
  ])('refuses %s, without quoting it', (_, text, message) => {
    const problem = problemOf(text)
    expect(problem).toMatch(message)
    for (const piece of ['abc-secret-xyz', '.kube/config', 'name: default', 'users: [']) expect(problem).not.toContain(piece)
  })
})

describe('parseInputs: the kubeconfig input', () => {
  it('masks each credential (each line of a multi-line one) and not the rest', () => {
    const { masks, error } = masksOf(KUBECONFIG)
    expect(error).toBeUndefined()
    for (const secret of KUBECONFIG_SECRETS) expect(masks).toContain(secret)
    expect(masks).not.toContain(KUBECONFIG)
    for (const plain of KUBECONFIG_PLAIN) for (const mask of masks) expect(plain.includes(mask) && mask.length > 0).toBe(false)
  })

  it('refuses a kubeconfig it cannot read, with every other problem, and masks it whole', () => {
    const text = 'apiVersion: v1\nusers: [\n  token: unparsed-secret-abc\n'
    const { masks, error } = masksOf(text)
    expect(error).toBeInstanceOf(UserError)
    expect(error!.message).toMatch(/'kubeconfig' is not valid YAML/)
    expect(error!.message).not.toContain('unparsed-secret-abc')
    // Its credentials cannot be told apart: all of it, and each line, as before.
    expect(masks).toContain(text)
    expect(masks).toContain('token: unparsed-secret-abc')
  })

  it("a job output may not hold one of the kubeconfig's credentials, but may hold its plain lines", () => {
    const values = secretValues({ secrets: {}, kubeconfig: KUBECONFIG } as unknown as Parameters<typeof secretValues>[0])
    expect(values).toContain('hunter2-kube-pass')
    expect(values).not.toContain(KUBECONFIG)
  })
})
