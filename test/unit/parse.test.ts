import { describe, it, expect, vi } from 'vitest'
import { OutputScanner, exitCodeForStatus, findManagedJob, findManagedJobByName, managedJobOf, parseJobsQueue, parseQueue, parseStatus, skyError, stripAnsi } from '../../src/sky/parse.js'

describe('parseStatus', () => {
  it('reads a list of clusters', () => {
    const out = JSON.stringify([{ name: 'c1', status: 'UP', autostop: 10, to_down: true }, { name: 'c2', status: 'INIT' }])
    expect(parseStatus(out)).toEqual([{ name: 'c1', status: 'UP', autostop: 10, to_down: true }, { name: 'c2', status: 'INIT' }])
  })

  it('skips warning lines printed before the JSON', () => {
    const out = 'Warning: something odd [not json]\nW 01-01 sky/foo.py: {deprecated}\n[{"name": "c1", "status": "UP"}]\n'
    expect(parseStatus(out)).toEqual([{ name: 'c1', status: 'UP' }])
  })

  it('reads an empty list', () => {
    expect(parseStatus('[]')).toEqual([])
    expect(parseStatus('some warning\n[]\n')).toEqual([])
  })

  it('drops records without a name', () => {
    expect(parseStatus('[{"status": "UP"}, null, 3, {"name": "c", "status": "UP"}]')).toEqual([{ name: 'c', status: 'UP' }])
  })

  it('throws on garbage, showing what sky printed', () => {
    expect(() => parseStatus('Error: not logged in')).toThrow(/expected JSON from sky, got: Error: not logged in/)
    expect(() => parseStatus('')).toThrow(/\(nothing\)/)
    expect(() => parseStatus('[not json')).toThrow()
  })

  it('throws on a JSON object that is not a list', () => {
    expect(() => parseStatus('{"name": "c1"}')).toThrow(/printed no list/)
  })

  it('truncates a long preview', () => {
    let message = ''
    try {
      parseStatus('x'.repeat(1000))
    } catch (error) {
      message = (error as Error).message
    }
    expect(message.length).toBeLessThan(300)
    expect(message).toContain('…')
  })
})

describe('parseJobsQueue', () => {
  const jobs = [{ job_id: 12, job_name: 'train', status: 'RUNNING', recovery_count: 1 }]

  it('reads a list', () => {
    expect(parseJobsQueue(JSON.stringify(jobs))).toEqual(jobs)
  })

  it('reads {jobs: [...]}', () => {
    expect(parseJobsQueue(`Warning: x\n${JSON.stringify({ jobs })}`)).toEqual(jobs)
  })

  it('throws on other shapes', () => {
    expect(() => parseJobsQueue('{"other": []}')).toThrow(/sky jobs queue -o json printed no list/)
    expect(() => parseJobsQueue('nothing')).toThrow(/expected JSON/)
  })
})

describe('parseQueue', () => {
  it('reads the records of the named cluster', () => {
    const out = JSON.stringify({ c1: [{ job_id: 1, status: 'SUCCEEDED' }], c2: [{ job_id: 2, status: 'FAILED' }] })
    expect(parseQueue(out, 'c1')).toEqual([{ job_id: 1, status: 'SUCCEEDED' }])
  })

  it('gives [] for a missing cluster or a non-list', () => {
    expect(parseQueue('{"c2": []}', 'c1')).toEqual([])
    expect(parseQueue('{"c1": "oops"}', 'c1')).toEqual([])
  })

  it('throws on text that holds no JSON', () => {
    expect(() => parseQueue('Cluster c1 not found.', 'c1')).toThrow(/expected JSON from sky/)
  })
})

describe('exitCodeForStatus', () => {
  it.each([
    ['SUCCEEDED', 0],
    ['CANCELLED', 103],
    ['FAILED', 100],
    ['FAILED_SETUP', 100],
    ['FAILED_DRIVER', 100],
    ['FAILED_PRECHECKS', 100],
    ['FAILED_NO_RESOURCE', 100],
    ['FAILED_CONTROLLER', 100],
    ['RUNNING', 101],
    ['PENDING', 101],
    ['RECOVERING', 101],
    ['SUBMITTED', 101]
  ] as const)('%s → %i', (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code)
  })
})

describe('OutputScanner: ids in what sky prints', () => {
  const UUID = '1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d'

  it.each([
    ['Job submitted, ID: 7', '7'],
    ['✓ Job submitted, ID: 7\n', '7'],
    ['Managed Job ID: 12\n', '12'],
    ['⚙︎ Job ID: 345 started', '345']
  ])('finds the job id in %j (once the stream has ended)', (text, id) => {
    const s = new OutputScanner(kindOf(text))
    s.push(text)
    s.end()
    expect(s.jobId).toBe(id)
  })

  it.each([
    [`Press Ctrl+C to stop. To cancel the request, run: sky api cancel 1a2b3c4d\n`, '1a2b3c4d'],
    [`Submitted sky.launch request: ${UUID}\n`, UUID],
    [`Submitted sky.jobs.launch request: ${UUID}\n`, UUID],
    [`To stream logs: sky api logs ${UUID}\n`, UUID],
    // As the real CLI prints the Ctrl-C hint: coloured, even into a pipe, with \r\n line ends.
    ['\x1b[2m└── \x1b[0m\x1b[2mTo cancel the request, run: \x1b[1msky api cancel 9422dd77\x1b[0m\r\n', '9422dd77']
  ])('finds the request id in %j', (text, id) => {
    const onRequestId = vi.fn()
    const s = new OutputScanner('cluster', onRequestId)
    s.push(text)
    expect(s.requestId).toBe(id)
    expect(onRequestId).toHaveBeenCalledTimes(1)
    expect(onRequestId).toHaveBeenCalledWith(id)
  })

  it('reports the request id once only', () => {
    const onRequestId = vi.fn()
    const s = new OutputScanner('cluster', onRequestId)
    s.push(`Submitted sky.launch request: ${UUID}\n`)
    s.push(`sky api cancel ffffffff\n`)
    expect(onRequestId).toHaveBeenCalledTimes(1)
    expect(s.requestId).toBe(UUID)
  })

  it('keeps the first job id', () => {
    const s = new OutputScanner('cluster')
    s.push('Job submitted, ID: 7\n')
    s.push('Job submitted, ID: 8\n')
    expect(s.jobId).toBe('7')
  })

  it('finds nothing in unrelated text', () => {
    const s = new OutputScanner('cluster')
    s.push('Launching a cluster...\nsky api cancel not-a-hex\nJob ID: none\n')
    expect(s.jobId).toBeUndefined()
    expect(s.requestId).toBeUndefined()
  })

  /** Both halves of `text` split at `i`, fed to a fresh scanner. */
  function scanSplit(text: string, i: number) {
    const onRequestId = vi.fn()
    const s = new OutputScanner(kindOf(text), onRequestId)
    s.push(text.slice(0, i))
    s.push(text.slice(i))
    return { s, onRequestId }
  }

  /** Positions strictly inside `needle` (where a split cuts the id itself). */
  function insideId(text: string, needle: string): Set<number> {
    const at = text.indexOf(needle)
    return new Set(Array.from({ length: needle.length - 1 }, (_, k) => at + k + 1))
  }

  const jobTexts = [
    { text: 'Some output\nJob submitted, ID: 7\nmore\n', jobId: '7' },
    { text: 'Streaming...\nManaged Job ID: 12\n', jobId: '12' },
    { text: 'x\nJob submitted, ID: 42\n', jobId: '42' },
    { text: 'Managed Job ID: 123456\nlogs follow\n', jobId: '123456' }
  ]

  for (const { text, jobId } of jobTexts) {
    it(`finds job id ${jobId} in ${JSON.stringify(text)} split in two at every position outside the id`, () => {
      const inside = insideId(text, jobId)
      for (let i = 0; i <= text.length; i++) {
        if (inside.has(i)) continue
        expect(scanSplit(text, i).s.jobId, `split at ${i}`).toBe(jobId)
      }
    })
  }

  // A chunk boundary inside the number must not latch a prefix of it ('Managed Job ID: 1' then
  // '2\n' is job 12, not 1): the action would then cancel or collect the wrong job.
  it.each(jobTexts.filter((t) => t.jobId.length > 1))('finds job id $jobId when the split falls inside the number', ({ text, jobId }) => {
    for (const i of insideId(text, jobId)) expect(scanSplit(text, i).s.jobId, `split at ${i}`).toBe(jobId)
  })

  const requestTexts = [
    { text: `prelude\nSubmitted sky.launch request: ${UUID}\n`, requestId: UUID },
    { text: `Press Ctrl+C... run: sky api cancel 1a2b3c4d\n`, requestId: '1a2b3c4d' },
    { text: `Submitted sky.launch request: ${UUID}\n...\nJob submitted, ID: 42\n`, requestId: UUID, jobId: '42' }
  ]

  for (const { text, requestId, jobId } of requestTexts) {
    it(`finds the request id in ${JSON.stringify(text)} split in two at every position`, () => {
      for (let i = 0; i <= text.length; i++) {
        const { s, onRequestId } = scanSplit(text, i)
        // A split inside a uuid may leave its 8-character short form, which `sky api cancel`
        // accepts as well (the Ctrl-C hint prints that form); anything else is wrong.
        expect([requestId, requestId.slice(0, 8)], `split at ${i}`).toContain(s.requestId)
        expect(onRequestId, `split at ${i}`).toHaveBeenCalledTimes(1)
        if (jobId && !insideId(text, jobId).has(i)) expect(s.jobId, `split at ${i}`).toBe(jobId)
      }
    })
  }

  it('finds the full request uuid when the split is outside it', () => {
    const text = `prelude\nSubmitted sky.launch request: ${UUID}\n`
    const inside = insideId(text, UUID)
    for (let i = 0; i <= text.length; i++) if (!inside.has(i)) expect(scanSplit(text, i).s.requestId, `split at ${i}`).toBe(UUID)
  })

  it('finds an id split across two pushes after a long chunk', () => {
    const s = new OutputScanner('cluster')
    s.push(`${'x'.repeat(10_000)}\nJob submit`)
    s.push('ted, ID: 99\n')
    expect(s.jobId).toBe('99')
  })

  it('finds the ids when fed one character at a time', () => {
    const text = `Submitted sky.launch request: ${UUID}\nJob submitted, ID: 5\n`
    const s = new OutputScanner('cluster')
    for (const ch of text) s.push(ch)
    expect([UUID, UUID.slice(0, 8)]).toContain(s.requestId)
    expect(s.jobId).toBe('5')
  })
})

/** Texts that name a managed job are read as `sky jobs launch` output; the rest as `sky launch`. */
function kindOf(text: string): 'cluster' | 'managed' {
  return /Managed (Job ID|job finished)/.test(text) ? 'managed' : 'cluster'
}

describe('OutputScanner: managed jobs, as the real CLI prints them', () => {
  // Recorded from the real `sky jobs launch` (consolidation mode): no submission line, the id only
  // in the block printed after the job ended, colour codes around the final line.
  const FOLLOWED = "YAML to run: t.yaml\n\x1b[33mLaunching managed job 'ghad2'...\x1b[0m\n\x1b[0m\x1b[32m✓ Managed job finished: 2 (status: FAILED_PRECHECKS).\x1b[0m\x1b[0m\n\n\n📋 Useful Commands\nManaged Job ID: 2\n├── View on dashboard:\t\thttp://127.0.0.1:46720/dashboard/jobs/2\n"

  it('reads the managed job id and its final status, through the colour codes', () => {
    const s = new OutputScanner('managed')
    s.push(FOLLOWED)
    s.end()
    expect(s).toMatchObject({ jobId: '2', finalStatus: 'FAILED_PRECHECKS', submitted: true })
  })

  it("never takes the jobs controller's `Job submitted, ID` for the managed job's id; it only says a job exists", () => {
    const s = new OutputScanner('managed')
    s.push('⚙︎ Job submitted, ID: 7\n├── Waiting for task resources on 1 node.\n')
    s.end()
    expect(s.jobId).toBeUndefined()
    expect(s.submitted).toBe(true)
  })

  it('reads the final lines of a log far longer than the scanned head', () => {
    const s = new OutputScanner('managed')
    s.push("Launching managed job 'x'...\n")
    for (let i = 0; i < 40; i++) s.push(Buffer.alloc(64 << 10, 'y\n'))
    s.push('✓ Managed job finished: 41 (status: SUCCEEDED).\n\n📋 Useful Commands\nManaged Job ID: 41\n')
    s.end()
    expect(s).toMatchObject({ jobId: '41', finalStatus: 'SUCCEEDED' })
  })

  it('a cluster launch that failed before any job knows no job and no submission', () => {
    const s = new OutputScanner('cluster')
    s.push('YAML to run: t.yaml\nRunning on cluster: t1\n')
    s.end()
    expect(s).toMatchObject({ jobId: undefined, submitted: false })
  })
})

describe('skyError: the exception SkyPilot printed last', () => {
  it.each([
    ['sky.exceptions.NoCloudAccessError: Cloud access is not set up. Run: \x1b[1msky check\x1b[0m\n', 'NoCloudAccessError', 'Cloud access is not set up. Run: sky check'],
    ['Traceback (most recent call last):\n  ...\nrequests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: http://x/jobs\n', 'HTTPError', '401 Client Error: Unauthorized for url: http://x/jobs'],
    ['sky.exceptions.ApiServerAuthenticationError: Authentication required for SkyPilot API server at http://127.0.0.1:46601. Please run:\n  sky api login -e http://127.0.0.1:46601\n', 'ApiServerAuthenticationError', 'Authentication required for SkyPilot API server at http://127.0.0.1:46601. Please run: sky api login -e http://127.0.0.1:46601'],
    ["sky.exceptions.ClusterDoesNotExist: \x1b[33mCluster 'nosuch' does not exist.\x1b[0m\n", 'ClusterDoesNotExist', "Cluster 'nosuch' does not exist."],
    ['sky.exceptions.ApiServerConnectionError: Could not connect (first)\n\nThe above exception was the direct cause of the following exception:\n\nsky.exceptions.ApiServerConnectionError: Could not connect to SkyPilot API server at http://127.0.0.1:46599.\n', 'ApiServerConnectionError', 'Could not connect to SkyPilot API server at http://127.0.0.1:46599.']
  ])('%j', (stderr, type, message) => {
    expect(skyError(stderr)).toEqual({ type, message })
  })

  it('finds nothing where sky printed no exception', () => {
    expect(skyError('\nAborted!\n')).toBeUndefined()
    expect(skyError('')).toBeUndefined()
  })

  it('strips colour codes', () => {
    expect(stripAnsi('\x1b[0m\x1b[32m✓ done\x1b[0m')).toBe('✓ done')
  })
})

describe('managed jobs from the queue', () => {
  const row = (job_id: number, task_id: number, status: string, extra: Record<string, unknown> = {}) => ({ job_id, task_id, job_name: `j${job_id}`, status, recovery_count: 0, submitted_at: 1000 + job_id, ...extra })

  it('a pipeline whose second task failed is FAILED, with that task\'s reason, whatever the later tasks say', () => {
    const job = managedJobOf([row(3, 2, 'CANCELLED'), row(3, 0, 'SUCCEEDED'), row(3, 1, 'FAILED', { failure_reason: 'Job failed with return code 3' })])
    expect(job).toMatchObject({ id: '3', status: 'FAILED', failureReason: 'Job failed with return code 3', tasks: 3 })
  })

  it('a pipeline still running reads as the status of the task that has not ended', () => {
    expect(managedJobOf([row(4, 0, 'SUCCEEDED'), row(4, 1, 'RUNNING'), row(4, 2, 'PENDING')])?.status).toBe('RUNNING')
  })

  it('sums recoveries over the tasks', () => {
    expect(managedJobOf([row(5, 0, 'SUCCEEDED', { recovery_count: 1 }), row(5, 1, 'SUCCEEDED', { recovery_count: 2 })])?.recoveryCount).toBe(3)
  })

  it('finds by id, and by name the newest job of that name submitted since a time', () => {
    const rows = [row(9, 0, 'RUNNING', { job_name: 'train' }), row(4, 0, 'SUCCEEDED', { job_name: 'train' }), row(7, 0, 'FAILED', { job_name: 'other' })]
    expect(findManagedJob(rows, '4')?.status).toBe('SUCCEEDED')
    expect(findManagedJobByName(rows, 'train')?.id).toBe('9')
    expect(findManagedJobByName(rows, 'train', 1010)).toBeUndefined()
    expect(findManagedJobByName(rows, 'nope')).toBeUndefined()
  })
})
