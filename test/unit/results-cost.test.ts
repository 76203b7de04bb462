import { describe, expect, it } from 'vitest'
import { CLOCK_SKEW_MS, clusterCosts, costCaveats, costReportArgs, fetchClusterCosts, hourlyPrice, recordCost, parseCostReport, roundUsd, sumUsd, totalCost, type CostRecord } from '../../src/results/cost.js'
import { stepResults } from '../../src/results/step-results.js'

// Records as the real `sky cost-report -o json` prints them: made by SkyPilot's own code (the
// real-sky chroot: global_user_state.add_or_update_cluster for Lambda and Kubernetes clusters, a
// local Lambda price catalog, then the real click command's JSON path), copied verbatim.
const REPORT = `[
  {
    "name": "gha-1-1-a100",
    "launched_at": 1796031898,
    "duration": 1800,
    "num_nodes": 2,
    "resources": {
      "infra": "lambda/us-east-1",
      "instance_type": "gpu_1x_a100_sxm4",
      "memory": "200.0",
      "disk_size": 256
    },
    "priority": null,
    "priority_class": null,
    "cluster_hash": "ac4901ee-3ada-45fe-8637-589022f95b7c",
    "usage_intervals": [
      [
        1796031898,
        null
      ]
    ],
    "status": "UP",
    "user_hash": "fcd1e5cf",
    "user_name": null,
    "workspace": "default",
    "last_event": null,
    "node_names": null,
    "last_creation_yaml": null,
    "last_creation_command": null,
    "total_cost": 1.29,
    "cloud": "Lambda",
    "region": "us-east-1",
    "cpus": "30.0",
    "memory": "200.0",
    "accelerators": "{'A100': 1}",
    "resources_str": "2x(gpus=A100:1, gpu_1x_a100_sxm..., ...)",
    "resources_str_full": "2x(gpus=A100:1, cpus=30, mem=200, gpu_1x_a100_sxm4, disk=256)"
  },
  {
    "name": "gha-1-1-train",
    "launched_at": 1796030097,
    "duration": 3601,
    "num_nodes": 1,
    "resources": {
      "infra": "lambda/us-east-1",
      "instance_type": "gpu_1x_a10",
      "memory": "200.0",
      "disk_size": 256
    },
    "priority": null,
    "priority_class": null,
    "cluster_hash": "44266c75-1126-40ee-a01b-b90960fdd289",
    "usage_intervals": [
      [
        1796030097,
        null
      ]
    ],
    "status": "UP",
    "user_hash": "fcd1e5cf",
    "user_name": null,
    "workspace": "default",
    "last_event": null,
    "node_names": null,
    "last_creation_yaml": null,
    "last_creation_command": null,
    "total_cost": 0.7502083333333334,
    "cloud": "Lambda",
    "region": "us-east-1",
    "cpus": "30.0",
    "memory": "200.0",
    "accelerators": "{'A10': 1}",
    "resources_str": "1x(gpus=A10:1, gpu_1x_a10, ...)",
    "resources_str_full": "1x(gpus=A10:1, cpus=30, mem=200, gpu_1x_a10, disk=256)"
  },
  {
    "name": "gha-1-1-k8s",
    "launched_at": 1796033127,
    "duration": 600,
    "num_nodes": 1,
    "resources": {
      "infra": "kubernetes",
      "cpus": "2+",
      "disk_size": 256
    },
    "priority": null,
    "priority_class": null,
    "cluster_hash": "10d6047f-227e-4b73-9862-00f23e604694",
    "usage_intervals": [
      [
        1796033127,
        null
      ]
    ],
    "status": "UP",
    "user_hash": "fcd1e5cf",
    "user_name": null,
    "workspace": "default",
    "last_event": null,
    "node_names": null,
    "last_creation_yaml": null,
    "last_creation_command": null,
    "total_cost": 0.0,
    "cloud": null,
    "region": null,
    "cpus": null,
    "memory": null,
    "accelerators": null,
    "resources_str": "-",
    "resources_str_full": "-"
  },
  {
    "name": "gha-1-1-done",
    "launched_at": 1796026527,
    "duration": 3600,
    "num_nodes": 1,
    "resources": {
      "infra": "lambda/us-east-1",
      "instance_type": "gpu_1x_a10",
      "memory": "200.0",
      "disk_size": 256
    },
    "priority": null,
    "priority_class": null,
    "cluster_hash": "a9ac0bde-8de3-48cd-ad13-c469c9198787",
    "usage_intervals": [
      [
        1796026527,
        1796030127
      ]
    ],
    "status": "TERMINATED",
    "user_hash": "fcd1e5cf",
    "user_name": null,
    "workspace": "default",
    "last_event": null,
    "node_names": null,
    "last_creation_yaml": null,
    "last_creation_command": null,
    "total_cost": 0.75,
    "cloud": "Lambda",
    "region": "us-east-1",
    "cpus": "30.0",
    "memory": "200.0",
    "accelerators": "{'A10': 1}",
    "resources_str": "1x(gpus=A10:1, gpu_1x_a10, ...)",
    "resources_str_full": "1x(gpus=A10:1, cpus=30, mem=200, gpu_1x_a10, disk=256)"
  }
]
`

const records = parseCostReport(REPORT)
/** A step that started a minute before the first of these clusters was launched. */
const since = (1796026527 - 60) * 1000

describe('sky cost-report -o json', () => {
  it('is read as a list of records, skipping what the client printed first', () => {
    expect(records.map((r) => r.name)).toEqual(['gha-1-1-a100', 'gha-1-1-train', 'gha-1-1-k8s', 'gha-1-1-done'])
    expect(parseCostReport(`Hint: the server is newer than the client.\n${REPORT}`)).toHaveLength(4)
    expect(parseCostReport('[]\n')).toEqual([])
    expect(() => parseCostReport('Error: not signed in')).toThrow(/printed no list: Error: not signed in/)
  })

  it('its arguments ask for just enough days to cover the step', () => {
    const now = Date.UTC(2026, 0, 10)
    expect(costReportArgs(now - 3_600_000, now)).toEqual(['cost-report', '-o', 'json', '--days', '1'])
    expect(costReportArgs(now - 3 * 86_400_000, now)).toEqual(['cost-report', '-o', 'json', '--days', '4'])
  })
})

describe('the cost of the step\'s clusters', () => {
  it('a cluster this step launched: its total_cost (all nodes), up so far or terminated', () => {
    const costs = clusterCosts(records, ['gha-1-1-train', 'gha-1-1-a100', 'gha-1-1-done'], since)
    expect(costs.get('gha-1-1-train')).toEqual({ cluster: 'gha-1-1-train', cost: { cluster: 'gha-1-1-train', usd: 0.7502083333333334, upAtReport: true, spot: false } })
    // 2 nodes x $1.29/h x 30 min, as SkyPilot computed it.
    expect(costs.get('gha-1-1-a100')?.cost?.usd).toBe(1.29)
    expect(costs.get('gha-1-1-done')?.cost).toEqual({ cluster: 'gha-1-1-done', usd: 0.75, upAtReport: false, spot: false })
    expect(totalCost(costs.values())).toBe(2.7902)
  })

  it('nothing for a cluster missing from the report, and then no total either', () => {
    const costs = clusterCosts(records, ['gha-1-1-train', 'gha-9-9-gone'], since)
    expect(costs.get('gha-9-9-gone')).toEqual({ cluster: 'gha-9-9-gone', reason: "gha-9-9-gone is not in SkyPilot's cost report" })
    expect(totalCost(costs.values())).toBeUndefined()
  })

  it('nothing for a zero from a cluster that was up (SkyPilot reports 0.0 when it could not price it)', () => {
    const costs = clusterCosts(records, ['gha-1-1-k8s'], since)
    expect(costs.get('gha-1-1-k8s')?.cost).toBeUndefined()
    expect(costs.get('gha-1-1-k8s')?.reason).toMatch(/no price for gha-1-1-k8s/)
  })

  it('nothing for a cluster that was up before the step started (its cost includes that use)', () => {
    const later = (1796030097 + 600) * 1000
    const costs = clusterCosts(records, ['gha-1-1-train'], later)
    expect(costs.get('gha-1-1-train')?.reason).toBe('gha-1-1-train was up before this step: its cost would include that')
  })

  it('an earlier launch of the same name that ended before the step is not this run', () => {
    const earlier: CostRecord = { name: 'gha-1-1-train', usage_intervals: [[1000, 2000]], total_cost: 99, status: 'TERMINATED' }
    const costs = clusterCosts([earlier, ...records], ['gha-1-1-train'], since)
    expect(costs.get('gha-1-1-train')?.cost?.usd).toBe(0.7502083333333334)
  })

  it('several launches of the name within the step (a retried launch) add up', () => {
    const retry: CostRecord[] = [
      { name: 'c', usage_intervals: [[2000, 2600]], total_cost: 0.1, status: 'TERMINATED', duration: 600 },
      { name: 'c', usage_intervals: [[2700, null]], total_cost: 0.25, status: 'UP', duration: 900 }
    ]
    expect(clusterCosts(retry, ['c'], 1_900_000).get('c')?.cost?.usd).toBe(0.35)
  })

  it('a clock skew of a few minutes between runner and server is tolerated', () => {
    const justAfter = (1796030097 + 120) * 1000
    expect(clusterCosts(records, ['gha-1-1-train'], justAfter).get('gha-1-1-train')?.cost).toBeDefined()
    const tooLate = 1796030097 * 1000 + CLOCK_SKEW_MS + 1000
    expect(clusterCosts(records, ['gha-1-1-train'], tooLate).get('gha-1-1-train')?.cost).toBeUndefined()
  })

  it.each([
    ['null', null],
    ['a string', '0.5'],
    ['negative', -1]
  ])('nothing for a total_cost that is %s', (_what, value) => {
    const r = { name: 'c', usage_intervals: [[2000, null]], total_cost: value, status: 'UP', duration: 60 } as unknown as CostRecord
    expect(clusterCosts([r], ['c'], 1_900_000).get('c')?.reason).toBe('SkyPilot gives no usable cost for c')
  })

  it('spot and still-up figures say what makes them rougher', () => {
    const spot: CostRecord = { name: 's', usage_intervals: [[2000, null]], total_cost: 0.3, status: 'UP', duration: 60, resources: { use_spot: true } }
    const cost = clusterCosts([spot], ['s'], 1_900_000).get('s')!.cost!
    expect(costCaveats(cost)).toEqual(['up to the end of the job (the teardown adds a little)', 'spot: priced at the spot list price, which moves'])
  })

  it('rounds to a hundredth of a cent; no clusters, no total', () => {
    expect(roundUsd(0.7502083333333334)).toBe(0.7502)
    expect(totalCost([])).toBeUndefined()
    expect(sumUsd([0.1, 0.2])).toBe(0.3)
    expect(sumUsd([0.1, undefined])).toBeUndefined()
  })
})

describe('asking SkyPilot', () => {
  const fakeSky = (code: number | null, stdout: string, calls: string[][] = []) => ({
    run: async (argv: string[]) => {
      calls.push(argv)
      return { code, stdout, stderr: '', ms: 1 }
    }
  })

  it('one call for every cluster of the step', async () => {
    const calls: string[][] = []
    const costs = await fetchClusterCosts(fakeSky(0, REPORT, calls), ['gha-1-1-train', 'gha-1-1-a100'], since)
    expect(calls).toHaveLength(1)
    expect(calls[0]!.slice(0, 3)).toEqual(['cost-report', '-o', 'json'])
    expect(totalCost(costs.values())).toBe(2.0402)
  })

  it('a failed call gives every cluster a reason and throws nothing', async () => {
    const costs = await fetchClusterCosts(fakeSky(1, ''), ['a', 'b'], since)
    expect([...costs.values()]).toEqual([
      { cluster: 'a', reason: 'sky cost-report failed (exit 1)' },
      { cluster: 'b', reason: 'sky cost-report failed (exit 1)' }
    ])
    const garbled = await fetchClusterCosts(fakeSky(0, '[{"name": "a", '), ['a'], since)
    expect(garbled.get('a')?.reason).toMatch(/^sky cost-report gave no usable answer: /)
  })

  it('no clusters, no call', async () => {
    const calls: string[][] = []
    expect((await fetchClusterCosts(fakeSky(0, REPORT, calls), [], since)).size).toBe(0)
    expect(calls).toEqual([])
  })
})

describe('a cluster on infra with no price', () => {
  it('Slurm: SkyPilot reports 0 for it: no figure, "not reported by SkyPilot for Slurm", and the summary says so, never $0', () => {
    const now = Date.now()
    const record = { name: 'c', launched_at: now / 1000, duration: 29, status: 'UP', total_cost: 0, cloud: 'Slurm', usage_intervals: [[now / 1000, null]] as [number, null][] }
    const lookup = clusterCosts([record], ['c'], now).get('c')!
    expect(lookup).toMatchObject({ reason: 'not reported by SkyPilot for Slurm', unpriced: { infra: 'Slurm' } })
    expect(lookup.cost).toBeUndefined()
    const step = stepResults({ results: [{ name: 't', status: 'SUCCEEDED', exitCode: 0, attempts: 1, durationMs: 1, costNote: lookup.reason }], fanout: false, declared: [] })
    expect(step.markdown).toContain('Cost: not reported by SkyPilot for Slurm.')
    expect(step.costUsd).toBeUndefined()
    // A priced cloud whose lookup failed is not called unpriced.
    expect(clusterCosts([{ ...record, cloud: 'AWS' }], ['c'], now).get('c')).not.toHaveProperty('unpriced')
  })
})

describe("a cluster's hourly price, for a cost cap", () => {
  it('is its open interval\'s cost over its length: all nodes, as SkyPilot prices them', () => {
    // gha-1-1-a100: 2 nodes, $1.29 for 1800 s up.
    expect(hourlyPrice(records, 'gha-1-1-a100')).toEqual({ usdPerHour: 2.58, usd: 1.29 })
    expect(hourlyPrice(records, 'gha-1-1-train')).toMatchObject({ usd: 0.7502083333333334 })
    expect((hourlyPrice(records, 'gha-1-1-train') as { usdPerHour: number }).usdPerHour).toBeCloseTo(0.75, 6)
  })

  it('none for a cluster no longer up, or missing', () => {
    expect(hourlyPrice(records, 'gha-1-1-done')).toEqual({ reason: 'gha-1-1-done is not up in SkyPilot\'s cost report' })
    expect(hourlyPrice(records, 'nope')).toEqual({ reason: 'nope is not up in SkyPilot\'s cost report' })
  })

  it('a cluster up for no measurable time costs 0 at any price: no price, and not called a failed lookup', () => {
    const [a100] = parseCostReport(REPORT)
    expect(hourlyPrice([{ ...a100!, duration: 0, total_cost: 0 }], 'gha-1-1-a100')).toEqual({ reason: 'gha-1-1-a100 has been up for no measurable time yet' })
  })

  it('a zero for a cluster that was up is a failed lookup; on infra with no list price, it says so', () => {
    const [a100] = parseCostReport(REPORT)
    expect(hourlyPrice([{ ...a100!, total_cost: 0 }], 'gha-1-1-a100')).toEqual({ reason: 'SkyPilot gives no price for gha-1-1-a100 (its price lookup gave 0)' })
    expect(hourlyPrice([{ ...a100!, total_cost: 0, cloud: 'Slurm' }], 'gha-1-1-a100')).toEqual({ reason: 'not reported by SkyPilot for Slurm', unpriced: 'Slurm' })
  })
})

describe("a task's cost as the summary shows it", () => {
  it('a figure is rounded; no price on the infra is said, never 0; any other reason is only logged', () => {
    const logged: string[] = []
    const log = (line: string) => logged.push(line)
    const priced = { cluster: 'a' } as { cluster: string; costUsd?: number; costNote?: string; infra?: string }
    recordCost(priced, { usd: 1.234567 }, log)
    expect(priced).toEqual({ cluster: 'a', costUsd: 1.2346 })
    const slurm = { cluster: 'b' } as typeof priced
    recordCost(slurm, { reason: 'not reported by SkyPilot for Slurm', unpriced: 'Slurm' }, log)
    expect(slurm).toEqual({ cluster: 'b', costNote: 'not reported by SkyPilot for Slurm', infra: 'Slurm' })
    const missing = { cluster: 'c' } as typeof priced
    recordCost(missing, { reason: 'sky cost-report failed (exit 1)' }, log)
    expect(missing).toEqual({ cluster: 'c' })
    expect(logged).toEqual(['No cost figure for c: sky cost-report failed (exit 1).'])
  })
})
