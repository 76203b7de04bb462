// Helpers shared by the offline workflow checks: load the project's workflows and the starter
// templates, walk their jobs and steps, validate them with GitHub's own parser and language
// service, and evaluate `${{ }}` expressions against plausible contexts.
import { readdirSync, readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser'
import { registerLogger, validate } from '@actions/languageservice'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { TextDocument } from 'vscode-languageserver-textdocument'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const WORKFLOWS_DIR = join(ROOT, '.github/workflows')
export const TEMPLATES_DIR = join(ROOT, 'templates')
export const EXAMPLES_DIR = join(ROOT, 'examples')

export const ACTION_REFS = ['./', 'skypilot-org/skypilot-action']
export const REUSABLE_WORKFLOW = 'skypilot-task.yml'
export const REUSABLE_REMOTE = 'skypilot-org/skypilot-action/.github/workflows/skypilot-task.yml'

/** Longest a job that launches may run on a hosted runner (360) minus time for the teardown. */
export const MAX_LAUNCH_TIMEOUT = 359

// ---------------------------------------------------------------------------------------------
// Files

export interface WorkflowFile {
  /** Path relative to the repository root, e.g. `templates/janitor.yml`. */
  rel: string
  abs: string
  kind: 'workflow' | 'template'
  text: string
  doc: Workflow
}

// A deliberately loose shape: the parser checks the schema, these tests check conventions.
export type Step = Record<string, any> & { uses?: string; run?: string; with?: Record<string, unknown> }
export type Job = Record<string, any> & { steps?: Step[]; uses?: string; needs?: string | string[] }
export type Workflow = Record<string, any> & { on: any; jobs: Record<string, Job> }

function listYaml(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f))
}

export function loadWorkflowFiles(): WorkflowFile[] {
  const files: WorkflowFile[] = []
  for (const [dir, kind] of [
    [WORKFLOWS_DIR, 'workflow'],
    [TEMPLATES_DIR, 'template']
  ] as const) {
    for (const abs of listYaml(dir)) {
      const text = readFileSync(abs, 'utf8')
      files.push({ rel: abs.slice(ROOT.length + 1), abs, kind, text, doc: parseYaml(text) as Workflow })
    }
  }
  return files
}

export function exampleTasks(): string[] {
  return listYaml(EXAMPLES_DIR).map((abs) => abs.slice(ROOT.length + 1))
}

export interface ActionMetadata {
  name: string
  description: string
  inputs: Record<string, { description: string; default?: string; required?: boolean }>
  outputs: Record<string, { description: string }>
}

/**
 * action.yml as the checks see it. When it is not valid YAML (its own test reports that), the
 * input and output names are read line by line so the other checks can still run.
 */
export function actionMetadata(): ActionMetadata {
  const text = readFileSync(join(ROOT, 'action.yml'), 'utf8')
  try {
    return parseYaml(text) as ActionMetadata
  } catch {
    const meta: ActionMetadata = { name: 'SkyPilot', description: '', inputs: {}, outputs: {} }
    let section: 'inputs' | 'outputs' | undefined
    for (const line of text.split('\n')) {
      const top = /^(\w[\w-]*):/.exec(line)
      if (top) section = top[1] === 'inputs' || top[1] === 'outputs' ? (top[1] as 'inputs' | 'outputs') : undefined
      const key = /^  ([A-Za-z][\w-]*):\s*$/.exec(line)
      if (section && key?.[1]) meta[section][key[1]] = { description: '' }
    }
    return meta
  }
}

export function actionInputs(): ActionMetadata['inputs'] {
  return actionMetadata().inputs
}

export function actionOutputs(): string[] {
  return Object.keys(actionMetadata().outputs)
}

export function reusableWorkflow(): Workflow {
  return parseYaml(readFileSync(join(WORKFLOWS_DIR, REUSABLE_WORKFLOW), 'utf8')) as Workflow
}

// ---------------------------------------------------------------------------------------------
// Walking

export function steps(job: Job): Step[] {
  return Array.isArray(job.steps) ? job.steps : []
}

export function needsOf(job: Job): string[] {
  if (!job.needs) return []
  return Array.isArray(job.needs) ? job.needs : [job.needs]
}

export function isActionRef(uses: string | undefined): boolean {
  if (!uses) return false
  if (uses === './' || uses === '.') return true
  return uses.split('@')[0] === 'skypilot-org/skypilot-action'
}

export function isReusableCall(uses: string | undefined): boolean {
  if (!uses) return false
  const path = uses.split('@')[0]
  return path === `./.github/workflows/${REUSABLE_WORKFLOW}` || path === REUSABLE_REMOTE
}

/** Does the job launch SkyPilot work: uses the action, the reusable workflow, or runs `sky`? */
export function launches(job: Job): boolean {
  if (isReusableCall(job.uses)) return true
  return steps(job).some((s) => isActionRef(s.uses) || (typeof s.run === 'string' && /(^|[\s;&|(])sky\s/m.test(s.run)))
}

export function onEvents(doc: Workflow): Record<string, any> {
  const on = doc.on
  if (typeof on === 'string') return { [on]: null }
  if (Array.isArray(on)) return Object.fromEntries(on.map((e: string) => [e, null]))
  return on ?? {}
}

/** Every `${{ ... }}` in a string, without the braces. */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => (m[1] ?? '').trim())
}

/** Contexts whose values a workflow's author does not control, not allowed inside `run:`. */
export const UNTRUSTED_IN_RUN = [/\binputs\./, /\bgithub\.event\./, /\bmatrix\./, /\bneeds\.[\w-]+\.outputs\./, /\bsteps\.[\w-]+\.outputs\./, /\bgithub\.head_ref\b/]

// ---------------------------------------------------------------------------------------------
// GitHub's parser and language service

export interface Problem {
  message: string
  line?: number
}

/** `@actions/workflow-parser`: schema errors, then conversion errors (needs, matrix, ...). */
export async function parserErrors(name: string, content: string): Promise<Problem[]> {
  const trace = new NoOperationTraceWriter()
  const result = parseWorkflow({ name, content }, trace)
  const problems: Problem[] = result.context.errors.getErrors().map((e) => ({ message: e.message }))
  if (result.value) {
    const template = await convertWorkflowTemplate(result.context, result.value)
    for (const e of template.errors ?? []) problems.push({ message: e.Message })
  }
  // Conversion adds its errors to the same context.
  const seen = new Set<string>()
  return problems.filter((p) => !seen.has(p.message) && seen.add(p.message))
}

/**
 * `@actions/languageservice` `validate`: expressions, context access, and the inputs passed to
 * this action and to the reusable workflow (resolved from the working tree). Other actions
 * resolve to metadata without inputs, so their inputs are not checked.
 */
let documentVersion = 0
// validate() catches its own exceptions and only logs them: collect them, or a crash looks clean.
const crashes: string[] = []
registerLogger({
  log: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string) => {
    crashes.push(message)
  }
} as Parameters<typeof registerLogger>[0])

export async function languageServiceProblems(uri: string, content: string): Promise<Problem[]> {
  // The language service caches parsed workflows by URI: make every call's URI unique.
  documentVersion += 1
  // Keep the file name last: the service tells action.yml from a workflow by the URI's ending.
  const slash = uri.lastIndexOf('/')
  const unique = `${uri.slice(0, slash)}/v${documentVersion}${uri.slice(slash)}`
  const doc = TextDocument.create(unique, 'yaml', documentVersion, content)
  const diagnostics = await validate(doc, {
    actionsMetadataProvider: {
      async fetchActionMetadata(ref) {
        if (ref.owner === 'skypilot-org' && ref.name === 'skypilot-action' && !ref.path) {
          return actionMetadata()
        }
        return { name: `${ref.owner}/${ref.name}`, description: 'not checked here' }
      }
    },
    fileProvider: {
      async getFileContent(ref) {
        const path = ref.path.replace(/^\.\//, '')
        const local = join(ROOT, path)
        if ('repository' in ref && `${ref.owner}/${ref.repository}` !== 'skypilot-org/skypilot-action') {
          throw new Error(`not available offline: ${ref.owner}/${ref.repository}/${ref.path}`)
        }
        return { name: path, content: readFileSync(local, 'utf8') }
      }
    }
  })
  if (crashes.length > 0) return crashes.splice(0).map((message) => ({ message }))
  // Errors, and warnings too: "Context access might be invalid" is only a warning.
  return diagnostics
    .filter((d) => d.severity === undefined || d.severity <= 2)
    .map((d) => ({ message: typeof d.message === 'string' ? d.message : d.message.value, line: d.range.start.line + 1 }))
}

// ---------------------------------------------------------------------------------------------
// Expressions

/** A plain JS value as expression data. */
export function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData
}

export function evaluate(expr: string, contexts: Record<string, unknown>): data.ExpressionData {
  const lexed = new Lexer(expr).lex()
  const names = Object.keys(contexts)
  const tree = new Parser(lexed.tokens, names, []).parse()
  const ctx = new data.Dictionary(...names.map((key) => ({ key, value: toData(contexts[key]) })))
  return new Evaluator(tree, ctx).evaluate()
}

/** Replace every `${{ }}` in a string with its value, as the runner does for `with:` values. */
export function interpolate(text: string, contexts: Record<string, unknown>): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, expr: string) => evaluate(expr.trim(), contexts).coerceString())
}

/** Default values of a workflow's `workflow_dispatch` (else `workflow_call`) inputs. */
export function defaultInputs(doc: Workflow): Record<string, unknown> {
  const on = onEvents(doc)
  const inputs = on.workflow_dispatch?.inputs ?? on.workflow_call?.inputs ?? {}
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries<any>(inputs)) {
    if (spec?.default !== undefined) out[name] = spec.default
    else if (spec?.type === 'boolean') out[name] = false
    else if (spec?.type === 'number') out[name] = 0
    else out[name] = ''
  }
  return out
}

/** The first cell of a static matrix (`include` entries come first when there is no grid). */
export function firstMatrixCell(job: Job): Record<string, unknown> {
  const matrix = job.strategy?.matrix
  if (!matrix || typeof matrix !== 'object') return {}
  const cell: Record<string, unknown> = {}
  for (const [k, v] of Object.entries<any>(matrix)) {
    if (k === 'include' || k === 'exclude') continue
    if (Array.isArray(v)) cell[k] = v[0]
  }
  if (Object.keys(cell).length === 0 && Array.isArray(matrix.include)) return { ...matrix.include[0] }
  return cell
}

/** `${{ }}` expressions of untrusted contexts inside `run:` scripts, as "job/step: expr". */
export function runScriptViolations(doc: Workflow): string[] {
  const found: string[] = []
  for (const [id, job] of Object.entries(doc.jobs ?? {})) {
    for (const [i, step] of steps(job).entries()) {
      if (typeof step.run !== 'string') continue
      for (const expr of expressionsIn(step.run)) {
        if (UNTRUSTED_IN_RUN.some((re) => re.test(expr))) found.push(`${id}/${i}: ${expr}`)
      }
    }
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// Filter patterns, action pins, and step scripts

/**
 * Does a branch or tag name match a GitHub filter pattern (`on.push.tags`)? The documented
 * special characters: `*` (not `/`), `**`, `?` and `+` (zero-or-one and one-or-more of the
 * preceding character), `[...]`; everything else is literal. `!` patterns are not handled.
 */
export function filterPatternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('!')) throw new Error(`negated pattern not handled: ${pattern}`)
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*'
      i++
    } else if (c === '*') re += '[^/]*'
    else if (c === '?' || c === '+') re += c
    else if (c === '[') {
      const end = pattern.indexOf(']', i)
      if (end < 0) throw new Error(`unclosed [ in ${pattern}`)
      re += pattern.slice(i, end + 1)
      i = end
    } else re += c.replace(/[.^$|(){}\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`).test(name)
}

export interface UsesLine {
  /** 1-based line number in the file. */
  line: number
  uses: string
  /** The comment after it on the same line, without `#`. */
  comment?: string
}

/** Every `uses:` in a workflow's text with its same-line comment (the parsed YAML drops comments). */
export function usesLines(text: string): UsesLine[] {
  const found: UsesLine[] = []
  text.split('\n').forEach((raw, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)['"]?\s*(?:#\s*(.*?))?\s*$/.exec(raw)
    if (m?.[1]) found.push({ line: i + 1, uses: m[1], comment: m[2] || undefined })
  })
  return found
}

/**
 * Third-party actions not pinned the way the best actions pin them: a full 40-hex commit SHA
 * (a tag can be moved, a SHA cannot) with the version it is, as a `# vX.Y.Z` comment that
 * Dependabot keeps in step with the SHA. Local actions (`./`) and `docker://` images are skipped.
 */
export function shaPinProblems(lines: UsesLine[]): string[] {
  const problems: string[] = []
  for (const { line, uses, comment } of lines) {
    if (uses.startsWith('./') || uses.startsWith('docker://')) continue
    const m = /^[\w.-]+\/[\w.-]+(?:\/[\w./-]+)?@(.+)$/.exec(uses)
    if (!m || !/^[0-9a-f]{40}$/.test(m[1]!)) problems.push(`line ${line}: ${uses} is not pinned to a full commit SHA`)
    else if (!comment || !/^v\d+(\.\d+){0,2}$/.test(comment)) problems.push(`line ${line}: ${uses} has no '# vX.Y.Z' comment saying which version the SHA is`)
  }
  return problems
}

export interface StepRun {
  code: number | null
  stdout: string
  stderr: string
  /** What the script wrote to GITHUB_OUTPUT and GITHUB_ENV, as `name=value` lines. */
  outputs: Record<string, string>
  env: Record<string, string>
}

/**
 * Runs a step's `run:` script the way the runner runs it on Linux (`bash --noprofile --norc -eo
 * pipefail`), with GITHUB_OUTPUT, GITHUB_ENV and RUNNER_TEMP in a fresh temp folder.
 */
export function runStepScript(script: string, o: { cwd: string; env?: Record<string, string> }): StepRun {
  const dir = mkdtempSync(join(tmpdir(), 'step-'))
  try {
    const file = join(dir, 'step.sh')
    const outputFile = join(dir, 'output')
    const envFile = join(dir, 'env')
    writeFileSync(file, script)
    writeFileSync(outputFile, '')
    writeFileSync(envFile, '')
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
      cwd: o.cwd,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', HOME: dir, RUNNER_TEMP: dir, GITHUB_OUTPUT: outputFile, GITHUB_ENV: envFile, ...o.env },
      timeout: 60_000
    })
    const pairs = (path: string) =>
      Object.fromEntries(
        readFileSync(path, 'utf8')
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])
      )
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, outputs: pairs(outputFile), env: pairs(envFile) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
