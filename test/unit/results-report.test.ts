import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readRunnerContext } from '../../src/context.js'
import { UserError } from '../../src/errors.js'
import { INPUT_NAMES, parseInputs, type RawInputs } from '../../src/inputs.js'
import { parseSavedResults } from '../../src/results/saved.js'
import { matchResultFiles, runReport } from '../../src/run/report.js'

let ws: string
let outputFile: string
let summaryFile: string
let log: string

function raw(overrides: Partial<RawInputs>): RawInputs {
  const r = {} as RawInputs
  for (const name of INPUT_NAMES) r[name] = ''
  return { ...r, mode: 'report', ...overrides }
}

const SUMMARY_FILE = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'report-summary-')), 'summary')

/** Parses the GITHUB_OUTPUT file (`name<<delimiter` blocks). */
function outputs(): Record<string, string> {
  const text = fs.existsSync(outputFile) ? fs.readFileSync(outputFile, 'utf8') : ''
  const out: Record<string, string> = {}
  const re = /^([^<\n]+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n\2$/gm
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!
  return out
}

function write(rel: string, content: unknown): void {
  const abs = path.join(ws, rel)
  fs.mkdirSync(path.dirname(abs), { recursive: true })
  fs.writeFileSync(abs, typeof content === 'string' ? content : JSON.stringify(content))
}

async function report(overrides: Partial<RawInputs>) {
  const inputs = parseInputs(raw(overrides), {})
  await runReport(inputs, { ...readRunnerContext({}), workspace: ws, repository: 'octo/ml', runId: '77' })
  return { outputs: outputs(), summary: fs.existsSync(summaryFile) ? fs.readFileSync(summaryFile, 'utf8') : '' }
}

beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), 'report-ws-'))
  outputFile = path.join(ws, '..', `${path.basename(ws)}-output`)
  // The toolkit's summary keeps the first path it sees for the whole process (as in a real step,
  // where it never changes): one summary file for every test here, emptied before each.
  summaryFile = SUMMARY_FILE
  // The runner creates the file-command files before a step runs; the toolkit writes to existing ones.
  fs.writeFileSync(outputFile, '')
  fs.writeFileSync(summaryFile, '')
  vi.stubEnv('GITHUB_OUTPUT', outputFile)
  vi.stubEnv('GITHUB_STEP_SUMMARY', summaryFile)
  log = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    log += String(chunk)
    return true
  })
})

afterEach(() => {
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
  fs.rmSync(ws, { recursive: true, force: true })
  fs.rmSync(outputFile, { force: true })
  fs.rmSync(summaryFile, { force: true })
})

describe('the saved shapes', () => {
  it('the results output as it is (ranks of an earlier report dropped)', () => {
    const text = JSON.stringify([
      { name: 'a', 'cluster-name': 'c-a', 'job-id': '3', status: 'SUCCEEDED', 'exit-code': 0, outputs: { m: '1' }, 'cost-usd': 0.5, rank: 1 },
      { name: 'b', status: 'FAILED', 'exit-code': 100 }
    ])
    expect(parseSavedResults(text, 'r.json')).toEqual({
      entries: [
        { name: 'a', 'cluster-name': 'c-a', 'job-id': '3', status: 'SUCCEEDED', 'exit-code': 0, outputs: { m: '1' }, 'cost-usd': 0.5 },
        { name: 'b', status: 'FAILED', 'exit-code': 100 }
      ],
      problems: []
    })
  })

  it('one entry; numbers and booleans as text; an empty cost is unknown', () => {
    expect(parseSavedResults('{"name": "lr0.1", "outputs": {"val_loss": 0.5, "ok": true}, "cost-usd": "", "job-id": 4}', 'x.json').entries).toEqual([
      { name: 'lr0.1', 'job-id': '4', outputs: { val_loss: '0.5', ok: 'true' } }
    ])
  })

  it('a job-outputs object is named after its file', () => {
    expect(parseSavedResults('{"val_loss": "0.41", "model_path": "s3://b/m"}', 'sweep/lr0.01-bs32.json').entries).toEqual([
      { name: 'lr0.01-bs32', outputs: { val_loss: '0.41', model_path: 's3://b/m' } }
    ])
  })

  it.each([
    ['not JSON', '{oops', /^bad\.json: not JSON \(.+\)\. Save the action's 'results' output/],
    ['a number', '42', /^bad\.json: holds a number\. Save/],
    ['a list of strings', '["a"]', /^bad\.json: item 1 is a string, not an entry/],
    ['an entry without a name', '{"outputs": {"m": "1"}}', /^bad\.json: 'name' must be a non-empty string\.$/],
    ['a misspelt key', '{"name": "a", "output": {"m": "1"}}', /^bad\.json: unknown key 'output'; an entry has name, cluster-name, job-id, status, exit-code, outputs, cost-usd\.$/],
    ['a nested value', '{"m": {"x": 1}}', /^bad\.json: an object that is neither an entry \(no 'name'\) nor a job-outputs object \('m' is an object\)\. Save/],
    ['an output that is a list', '{"name": "a", "outputs": {"m": [1]}}', /^bad\.json: output 'm' is a list; an output's value is text/],
    ['a cost that is not a number', '{"name": "a", "cost-usd": "cheap"}', /^bad\.json: 'cost-usd' must be a number of dollars/]
  ])('refused with what to do: %s', (_what, text, message) => {
    const parsed = parseSavedResults(text, 'bad.json')
    expect(parsed.entries).toEqual([])
    expect(parsed.problems[0]).toMatch(message)
  })
})

describe('results-path', () => {
  it('globs, one per line, relative to the workspace; ! lines exclude', () => {
    write('sweep/a.json', {})
    write('sweep/b.json', {})
    write('sweep/skip.json', {})
    write('other/c.json', {})
    const { files } = matchResultFiles(['sweep/*.json', '!sweep/skip.json', 'other/**/*.json'], ws)
    expect(files.map((f) => path.relative(ws, f))).toEqual(['other/c.json', 'sweep/a.json', 'sweep/b.json'])
  })
})

describe('mode: report', () => {
  const cells = {
    'sweep-results/lr0.1-bs32.json': { name: 'lr0.1-bs32', status: 'SUCCEEDED', outputs: { val_loss: '0.93', model_path: 's3://b/lr0.1' }, 'cost-usd': 0.42 },
    'sweep-results/lr0.01-bs32.json': { name: 'lr0.01-bs32', status: 'SUCCEEDED', outputs: { val_loss: '0.41', model_path: 's3://b/lr0.01' }, 'cost-usd': 0.4 },
    'sweep-results/lr1-bs32.json': { name: 'lr1-bs32', status: 'FAILED', outputs: {}, 'cost-usd': 0.1 }
  }

  it('ranks the saved cells, sets results and best, renders the leaderboard and chart', async () => {
    for (const [rel, c] of Object.entries(cells)) write(rel, c)
    const { outputs: out, summary } = await report({ 'results-path': 'sweep-results/*.json', 'rank-by': 'val_loss' })
    expect(JSON.parse(out.results!).map((e: { name: string; rank?: number }) => [e.name, e.rank])).toEqual([
      ['lr0.01-bs32', 1],
      ['lr0.1-bs32', 2],
      ['lr1-bs32', undefined]
    ])
    expect(JSON.parse(out.best!)).toEqual({ name: 'lr0.01-bs32', status: 'SUCCEEDED', outputs: { val_loss: '0.41', model_path: 's3://b/lr0.01' }, 'cost-usd': 0.4, rank: 1 })
    expect(out.status).toBe('FAILED')
    expect(out['cost-usd']).toBe('0.92')
    expect(summary).toContain('### SkyPilot results: 3 from 3 files')
    expect(summary).toContain('Best by val\\_loss (lowest first): **lr0.01-bs32**, val\\_loss 0.41.')
    expect(summary).toContain('| 🥇 1 | lr0.01-bs32 | 0.41 | model\\_path: s3\\://b/lr0.01 | ✅ SUCCEEDED | $0.40 |')
    expect(summary).toContain('| – | lr1-bs32 | (not ranked: did not succeed (FAILED)) | – | ❌ FAILED | $0.10 |')
    expect(summary).toContain('xychart-beta')
    expect(summary).toContain('1 of 3 did not succeed.')
    expect(summary).toContain('Total cost (est.): $0.92.')
    expect(log).toContain('Best by val_loss (lowest first): lr0.01-bs32 (0.41).')
  })

  it('a name or value from a file cannot start a line of its own in the log (no workflow command)', async () => {
    write('r/a.json', { name: 'a\n::add-mask::x\r::error::boom', outputs: { m: ' 1' } })
    await report({ 'results-path': 'r/*.json', 'rank-by': 'm' })
    expect(log).toContain('Best by m (lowest first): a ::add-mask::x ::error::boom ( 1).')
    expect(log).not.toMatch(/^::(add-mask|error)::/m)
  })

  it('with comment-on-pr, the same report goes to the pull request (here a push: said and skipped)', async () => {
    write('r/a.json', { m: '1' })
    vi.stubEnv('GITHUB_EVENT_NAME', 'push')
    vi.stubEnv('GITHUB_REPOSITORY', 'octo/ml')
    vi.stubEnv('GITHUB_EVENT_PATH', '')
    await report({ 'results-path': 'r/*.json', 'comment-on-pr': 'true' })
    expect(log).toContain("comment-on-pr: this run was triggered by 'push', not by a pull request: no comment.")
  })

  it('without rank-by: a results table, no best', async () => {
    write('r/a.json', { val_loss: '1' })
    const { outputs: out, summary } = await report({ 'results-path': 'r/*.json' })
    expect(out).not.toHaveProperty('best')
    expect(JSON.parse(out.results!)).toEqual([{ name: 'a', outputs: { val_loss: '1' } }])
    expect(out.status).toBe('SUCCEEDED')
    expect(summary).toContain('#### Results')
    expect(summary).not.toContain('mermaid')
  })

  it('nothing rankable: no best, a warning that says what to print', async () => {
    write('r/a.json', { name: 'a', outputs: { acc: 'n/a' } })
    const { outputs: out } = await report({ 'results-path': 'r/*.json', 'rank-by': 'acc desc' })
    expect(out).not.toHaveProperty('best')
    expect(log).toMatch(/::warning::'rank-by: acc': no result has a number for it .* 'skypilot-output acc=<number>'/)
  })

  it('no file matched: fails with where it looked and what to check; a directory gets a hint', async () => {
    write('sweep-results/a.json', {})
    await expect(report({ 'results-path': 'results/*.json' })).rejects.toThrow(/'results-path' matches no file \(results\/\*\.json\) under .*actions\/download-artifact's 'path'/)
    await expect(report({ 'results-path': 'sweep-results' })).rejects.toThrow(/'sweep-results' is a directory: match the files in it, e.g. 'sweep-results\/\*\.json'/)
  })

  it('every bad file is listed at once, and nothing is set', async () => {
    write('r/a.json', '{oops')
    write('r/b.json', { name: 'x' })
    write('r/c.json', { name: 'x' })
    const error = await report({ 'results-path': 'r/*.json' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UserError)
    expect((error as UserError).problems).toEqual([
      expect.stringMatching(/^r\/a\.json: not JSON/),
      "The name 'x' is in r/b.json and in r/c.json: give every saved result its own name."
    ])
    expect(outputs()).toEqual({})
  })

  it('dry run: says what it would read, status DRY_RUN, no failure when nothing is there yet', async () => {
    const { outputs: out, summary } = await report({ 'results-path': 'sweep-results/*.json', 'rank-by': 'val_loss', 'dry-run': 'true' })
    expect(out).toEqual({ status: 'DRY_RUN' })
    expect(summary).toContain('Would read the results in `sweep-results/\\*.json` (0 files there now) and rank them by val\\_loss (lowest first).')
  })
})
