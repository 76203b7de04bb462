import { describe, it, expect } from 'vitest'
import { CLUSTER_NAME, MAX_GENERATED_NAME, clusterNameProblem, fanoutClusterName, generateClusterName, type NameParts } from '../../src/naming.js'

const VALID = /^[a-zA-Z]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/

function expectGood(name: string, parts?: unknown): void {
  const info = `${name} from ${JSON.stringify(parts)}`
  expect(name.length, info).toBeLessThanOrEqual(35)
  expect(name, info).toMatch(VALID)
}

// Deterministic pseudo-random generator, so a failure reproduces.
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const AWKWARD_JOBS = [
  '', 'build', 'test_unit', 'Build And Test', 'a'.repeat(100), 'x-'.repeat(40), '___', '123', '123abc', 'ünïcödé-jöb',
  '日本語のジョブ', 'job with spaces and Unicode ✓', 'job.with.dots', '-leading-dash', 'trailing-dash-', 'MiXeD_CaSe_JOB_ID_' + 'z'.repeat(50),
  '🚀🚀🚀', 'a', 'job/with/slashes', 'tab\tand\nnewline'
]
const PREFIXES = ['gha', 'a', 'A', 'my-prefix', 'x'.repeat(20), 'abcdefghij0123456789', 'a---b', 'abc-', 'Z9-9-9-9-9-9-9-9-9-9', '']
const RUN_IDS = ['', '1', '12345678901', '987654321012', 'not-a-number', 'local']
const ATTEMPTS = ['', '1', '2', '10', '999']

describe('generateClusterName', () => {
  it('the constants match the documented rule', () => {
    expect(MAX_GENERATED_NAME).toBe(35)
    expect(CLUSTER_NAME.source).toBe(VALID.source)
  })

  it('is always valid and at most 35 characters over a table of awkward inputs', () => {
    let count = 0
    for (const prefix of PREFIXES) {
      for (const job of AWKWARD_JOBS) {
        for (const runId of RUN_IDS) {
          for (const runAttempt of ATTEMPTS) {
            for (const jobIndex of [undefined, '', '0', '7', '255']) {
              const parts: NameParts = { prefix, runId, runAttempt, job, jobIndex }
              expectGood(generateClusterName(parts), parts)
              count++
            }
          }
        }
      }
    }
    expect(count).toBeGreaterThan(10_000)
  })

  it('is valid for every matrix index 0..255 with long prefixes and long job ids', () => {
    for (let i = 0; i <= 255; i++) {
      for (const prefix of ['x'.repeat(20), 'gha']) {
        const parts = { prefix, runId: '12345678901', runAttempt: '3', job: 'a-very-long-job-identifier-'.repeat(3), jobIndex: String(i) }
        expectGood(generateClusterName(parts), parts)
      }
    }
  })

  it('is valid over many generated cases (property loop)', () => {
    const rand = rng(42)
    const alphabet = 'abcXYZ019_-. /ü日🚀\t'
    const str = (max: number): string => {
      const n = Math.floor(rand() * (max + 1))
      let s = ''
      for (let i = 0; i < n; i++) s += [...alphabet][Math.floor(rand() * [...alphabet].length)]
      return s
    }
    const prefixChars = 'abcxyzABC0123456789-'
    for (let k = 0; k < 5000; k++) {
      const plen = 1 + Math.floor(rand() * 20)
      let prefix = 'abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 26)]!
      for (let i = 1; i < plen; i++) prefix += prefixChars[Math.floor(rand() * prefixChars.length)]
      const parts: NameParts = {
        prefix,
        runId: rand() < 0.1 ? '' : String(Math.floor(rand() * 1e12)),
        runAttempt: String(1 + Math.floor(rand() * 20)),
        job: str(120),
        jobIndex: rand() < 0.3 ? undefined : String(Math.floor(rand() * 256))
      }
      expectGood(generateClusterName(parts), parts)
    }
  })

  it('uses the prefix, run id, attempt, job and index in order', () => {
    expect(generateClusterName({ prefix: 'gha', runId: '123', runAttempt: '2', job: 'build', jobIndex: '4' })).toBe('gha-123-2-build-4')
    expect(generateClusterName({ prefix: 'gha', runId: '123', runAttempt: '1', job: 'build' })).toBe('gha-123-1-build')
  })

  it('falls back to gha, local and attempt 1 when parts are missing', () => {
    expect(generateClusterName({ prefix: '', runId: '', runAttempt: '', job: '' })).toBe('gha-local-1')
  })

  it('is lower case', () => {
    const name = generateClusterName({ prefix: 'MyPrefix', runId: '1', runAttempt: '1', job: 'BuildJob' })
    expect(name).toBe(name.toLowerCase())
  })

  it('is deterministic', () => {
    for (const job of AWKWARD_JOBS) {
      const parts = { prefix: 'gha', runId: '12345678901', runAttempt: '1', job, jobIndex: '3' }
      expect(generateClusterName(parts)).toBe(generateClusterName({ ...parts }))
    }
  })

  it('gives a different name for each matrix index 0..255; index 0 is a job outside any matrix', () => {
    for (const job of ['build', 'a'.repeat(100), '日本語']) {
      for (const prefix of ['gha', 'x'.repeat(20)]) {
        const names = new Set<string>()
        for (let i = 0; i <= 255; i++) names.add(generateClusterName({ prefix, runId: '12345678901', runAttempt: '1', job, jobIndex: String(i) }))
        expect(names.size).toBe(256)
        // The runner fills job-index with strategy.job-index, which is 0 outside a matrix: same name as none.
        expect(generateClusterName({ prefix, runId: '12345678901', runAttempt: '1', job, jobIndex: '0' })).toBe(generateClusterName({ prefix, runId: '12345678901', runAttempt: '1', job }))
      }
    }
  })

  it('gives a different name for a different attempt', () => {
    for (const job of ['build', 'a'.repeat(100)]) {
      for (const prefix of ['gha', 'x'.repeat(20)]) {
        const names = new Set<string>()
        for (let a = 1; a <= 20; a++) names.add(generateClusterName({ prefix, runId: '12345678901', runAttempt: String(a), job, jobIndex: '255' }))
        expect(names.size).toBe(20)
      }
    }
  })

  it('gives different names to two long job ids that share their head', () => {
    const base = { prefix: 'gha', runId: '12345678901', runAttempt: '1' }
    const a = generateClusterName({ ...base, job: `${'shared-head-'.repeat(5)}one` })
    const b = generateClusterName({ ...base, job: `${'shared-head-'.repeat(5)}two` })
    expect(a).not.toBe(b)
    expectGood(a)
    expectGood(b)
  })

  it('gives a different name for a different run id', () => {
    const job = 'build'
    expect(generateClusterName({ prefix: 'gha', runId: '1', runAttempt: '1', job })).not.toBe(generateClusterName({ prefix: 'gha', runId: '2', runAttempt: '1', job }))
  })
})

describe('fanoutClusterName', () => {
  const bases = [
    'gha-123-1-build',
    generateClusterName({ prefix: 'x'.repeat(20), runId: '12345678901', runAttempt: '9', job: 'j'.repeat(80), jobIndex: '255' }),
    generateClusterName({ prefix: 'gha', runId: '12345678901', runAttempt: '1', job: 'job-with-dash-at-cut-'.repeat(4) }),
    'a',
    'abc.def_ghi-jkl.mno_pqr-stu.vwx_yz0-123'
  ]

  it('is valid, at most 35 characters and distinct for indexes 1..256', () => {
    for (const base of bases) {
      const names = new Set<string>()
      for (let i = 1; i <= 256; i++) {
        const name = fanoutClusterName(base, i)
        expectGood(name, { base, i })
        expect(name.endsWith(`-t${i}`), name).toBe(true)
        names.add(name)
      }
      expect(names.size).toBe(256)
    }
  })

  it('appends -t<index> to a short base', () => {
    expect(fanoutClusterName('gha-1-1-build', 3)).toBe('gha-1-1-build-t3')
  })
})

describe('clusterNameProblem', () => {
  it.each(['my-cluster', 'A', 'a.b_c-d9', 'Cluster1'])('accepts %j', (name) => {
    expect(clusterNameProblem(name)).toBeUndefined()
  })

  it.each(['sky-jobs-controller-abc', 'sky-serve-controller-1'])('refuses the reserved prefix in %j', (name) => {
    const problem = clusterNameProblem(name)
    expect(problem).toContain('reserves for its controllers')
    expect(problem).toContain('choose another')
  })

  it.each(['Bad_', '1abc', '-abc', 'abc-', 'a b', 'a/b', '', 'ab.', 'é'])('refuses the invalid name %j, saying what is allowed', (name) => {
    const problem = clusterNameProblem(name)
    expect(problem).toBeDefined()
    expect(problem).toContain(`'${name}' is not valid`)
    expect(problem).toContain('start with a letter')
    expect(problem).toContain('end with a letter or digit')
  })
})
