import { describe, expect, it } from 'vitest'
import { validateTask, type ValidateOptions } from '../../src/task/validate.js'

/**
 * Checks SkyPilot makes beyond its JSON schemas when it loads a task (sky/task.py,
 * sky/resources.py, sky/data/storage.py, sky/serve/service_spec.py, sky/utils/dag_utils.py).
 * Each verdict below is what SkyPilot's own loader says of the same text (the real tier,
 * test/real/validation.test.ts, holds the action against it on a larger corpus).
 */
const run = (yaml: string, options: Partial<ValidateOptions> = {}) => validateTask(yaml, { envs: {}, secrets: {}, allowPipeline: true, ...options })
const ACTIONABLE = /Use |Write |Quote |Rename |Remove |Add |pass it|Change |Fix |Keep |Move |Give |Set |Make |List |Define |Point |Merge /

interface Case {
  name: string
  yaml: string
  /** A piece of the one problem expected, or null when SkyPilot accepts the task. */
  problem: string | null
  line?: number
  options?: Partial<ValidateOptions>
}

const refused = (name: string, yaml: string, problem: string, line?: number, options?: Partial<ValidateOptions>): Case => ({ name, yaml, problem, ...(line ? { line } : {}), ...(options ? { options } : {}) })
const accepted = (name: string, yaml: string, options?: Partial<ValidateOptions>): Case => ({ name, yaml, problem: null, ...(options ? { options } : {}) })

const cases: Case[] = [
  // resources (sky/resources.py)
  refused('disk_tier fastest', 'resources:\n  disk_tier: fastest\nrun: echo\n', "resources.disk_tier: 'fastest' is not a disk tier. Use one of: low, medium, high, ultra, best", 2),
  accepted('disk_tier in any case', 'resources:\n  disk_tier: BEST\nrun: echo\n'),
  refused('network_tier fast', 'resources:\n  network_tier: fast\nrun: echo\n', "'fast' is not a network tier. Use one of: standard, best", 2),
  refused('cpus 0', 'resources:\n  cpus: 0\nrun: echo\n', "resources.cpus: must be positive, got '0'", 2),
  refused('cpus abc', 'resources:\n  cpus: abc\nrun: echo\n', "resources.cpus: 'abc' is not a number of CPUs", 2),
  accepted('cpus 4+', 'resources:\n  cpus: 4+\nrun: echo\n'),
  refused('memory 0', 'resources:\n  memory: 0\nrun: echo\n', "resources.memory: must be positive, got '0'", 2),
  accepted('memory 0 on Slurm', 'resources:\n  infra: slurm\n  memory: 0\nrun: echo\n'),
  accepted('memory with a unit and +', 'resources:\n  memory: 1TB+\nrun: echo\n'),
  refused('memory abc', 'resources:\n  memory: abc\nrun: echo\n', "resources.memory: 'abc' is not a memory size SkyPilot reads", 2),
  refused('disk_size 0', 'resources:\n  disk_size: 0\nrun: echo\n', 'resources.disk_size: must be a positive number of GB', 2),
  refused('disk_size 100.0 (SkyPilot reads it with int())', 'resources:\n  disk_size: 100.0\nrun: echo\n', "resources.disk_size: '100.0' is not a size SkyPilot reads", 2),
  accepted('disk_size 1TB', 'resources:\n  disk_size: 1TB\nrun: echo\n'),
  refused('ports 70000', 'resources:\n  ports: 70000\nrun: echo\n', 'resources.ports: Invalid port 70000', 2),
  refused('ports reversed range', 'resources:\n  ports: 8010-8000\nrun: echo\n', 'Invalid port range 8010-8000', 2),
  accepted('ports list and comma list', 'resources:\n  ports: [8080, "9000-9010", "7000,7001"]\nrun: echo\n'),
  refused('accelerator count x', 'resources:\n  accelerators: "A100:x"\nrun: echo\n', "'A100:x' is not <name> or <name>:<count>", 2),
  refused('accelerator count 0 in a map', 'resources:\n  accelerators: {A100: 0}\nrun: echo\n', "the count of 'A100' must be positive", 2),
  accepted('a fraction of an accelerator', 'resources:\n  accelerators: "A100:0.5"\nrun: echo\n'),
  refused('three-part accelerator without memory', 'resources:\n  accelerators: "A100:1:2"\nrun: echo\n', 'names a GPU manufacturer without a memory size', 2),
  refused('accelerator list with ordered', 'resources:\n  accelerators: [A100, H100]\n  ordered:\n    - infra: aws\nrun: echo\n', "Several accelerators together with 'ordered'", 2),
  refused('accelerator list with any_of', 'resources:\n  accelerators: [A100, H100]\n  any_of:\n    - infra: aws\nrun: echo\n', "A list of accelerators (an order of preference) together with 'any_of'", 2),
  accepted('accelerator map with any_of', 'resources:\n  accelerators: {A100: 1, H100: 1}\n  any_of:\n    - infra: aws\nrun: echo\n'),
  refused('any_of and ordered', 'resources:\n  any_of: [{infra: aws}]\n  ordered: [{infra: gcp}]\nrun: echo\n', "Both 'any_of' and 'ordered' are set", 3),
  refused('TPU on AWS', 'resources:\n  accelerators: tpu-v2-8\n  infra: aws\nrun: echo\n', "the TPU 'tpu-v2-8' runs only on GCP or Kubernetes", 2),
  refused('TPU VM with an instance type', 'resources:\n  accelerators: tpu-v2-8\n  infra: gcp\n  instance_type: n1-standard-4\nrun: echo\n', 'a TPU VM', 4),
  refused('infra with cloud', 'resources:\n  infra: aws\n  cloud: aws\nrun: echo\n', "'infra' is set together with 'cloud'", 3),
  refused('an any_of entry adding cloud to infra', 'resources:\n  infra: k8s\n  any_of:\n    - cloud: gcp\nrun: echo\n', "'infra' is set together with 'cloud'", 4),
  refused('local_disk abc', 'resources:\n  local_disk: abc\nrun: echo\n', "resources.local_disk: 'abc' is not a local disk", 2),
  accepted('local_disk nvme:100+', 'resources:\n  local_disk: "nvme:100+"\nrun: echo\n'),
  refused('docker key and docker: values in image_id', 'resources:\n  infra: aws\n  image_id: {docker: ubuntu, us-east-1: "docker:img"}\nrun: echo\n', "both a 'docker' key and docker:-prefixed region values", 3),
  refused('hooks under resources', 'resources:\n  hooks: [{run: echo}]\nrun: echo\n', "Lifecycle hooks live under the top-level 'config.hooks'", 2),
  accepted('hooks under config', 'config:\n  hooks: [{run: echo, events: [stop]}]\nrun: echo\n'),
  refused('a volume without a path', 'resources:\n  volumes: [{name: x}]\nrun: echo\n', "A volume has no 'path'", 2),
  // the task (sky/task.py)
  refused('num_nodes 2.0', 'num_nodes: 2.0\nrun: echo\n', 'num_nodes: must be a whole number, got 2.0', 1),
  refused('envs: with nothing', 'envs:\nrun: echo\n', "envs: is empty (null), which SkyPilot cannot read", 1),
  accepted('envs values that are maps and lists (SkyPilot stringifies them)', 'envs:\n  A: {a: 1}\n  B: [1, 2]\nrun: echo\n'),
  refused('half the docker login variables', 'envs:\n  SKYPILOT_DOCKER_USERNAME: u\nrun: echo\n', 'Docker login variables must be given together: envs lacks SKYPILOT_DOCKER_PASSWORD, SKYPILOT_DOCKER_SERVER', 1),
  refused('docker login split between envs and secrets', 'envs:\n  SKYPILOT_DOCKER_USERNAME: u\nsecrets:\n  SKYPILOT_DOCKER_PASSWORD: p\n  SKYPILOT_DOCKER_SERVER: s\nrun: echo\n', 'Docker login variables are split between envs', 3),
  refused('empty inputs', 'inputs: {}\nrun: echo\n', 'inputs: is an empty map', 1),
  refused('a file mount that is a list', 'file_mounts:\n  /x: [a]\nrun: echo\n', 'file_mounts./x: must be a source path or URL', 2),
  refused('a date in file_mounts (SkyPilot writes it as JSON)', 'file_mounts:\n  /x: 2024-01-01\nrun: echo\n', 'cannot be written as JSON', 2),
  refused('an env with a quote substituted into file_mounts', `envs:\n  Q: 'a"b'\nfile_mounts:\n  /x/$Q: /y\nrun: echo\n`, 'an env value it uses holds a quote', 4),
  accepted('an env with a backslash escape substituted into file_mounts', 'envs:\n  Q: "a\\\\nb"\nfile_mounts:\n  /x: /y/$Q\nrun: echo\n'),
  refused('storage type without MOUNT_CACHED', 'file_mounts:\n  /d:\n    name: b\n    store: s3\n    type: DATASET_RO\nrun: echo\n', "'type' needs 'mode: MOUNT_CACHED'", 5),
  refused('storage config.mount with COPY', 'file_mounts:\n  /d:\n    name: b\n    mode: COPY\n    config: {mount: {read_only: true}}\nrun: echo\n', "config.mount: needs 'mode: MOUNT'", 5),
  accepted('a store: volume mount', 'file_mounts:\n  /d:\n    name: my-vol\n    store: volume\nrun: echo\n'),
  refused('a store: volume mount without a name', 'file_mounts:\n  /d:\n    store: volume\nrun: echo\n', "Network volume /d has no 'name'", 3),
  refused('volume_mounts without its volume_config', 'volume_mounts:\n  - path: /v\n    volume_name: v\nrun: echo\n', 'volume_mounts[0]: volume_config lacks name', 2),
  // service and pool (sky/serve/service_spec.py)
  accepted('a service', 'service:\n  readiness_probe: /health\n  replicas: 2\nresources: {ports: 8080}\nrun: echo\n'),
  refused('service max_replicas below min_replicas', 'service:\n  readiness_probe: /\n  replica_policy: {min_replicas: 3, max_replicas: 1}\nrun: echo\n', 'max_replicas (1) is less than min_replicas (3)', 3),
  refused('service autoscaling without a QPS target', 'service:\n  readiness_probe: /\n  replica_policy: {min_replicas: 1, max_replicas: 3}\nrun: echo\n', 'target_qps_per_replica is not set', 3),
  refused('service ports 8080.0', 'service:\n  readiness_probe: /\n  ports: 8080.0\nrun: echo\n', 'service.ports: must be a whole number, got 8080.0', 3),
  refused('readiness path without a slash', 'service:\n  readiness_probe: health\nrun: echo\n', "service.readiness_probe: the path must start with '/'", 2),
  refused('load balancing policy in capitals', 'service:\n  readiness_probe: /\n  load_balancing_policy: ROUND_ROBIN\nrun: echo\n', "'ROUND_ROBIN' is not a policy SkyPilot knows", 3),
  accepted('a pool', 'pool:\n  workers: 2\nrun: echo\n'),
  refused('a pool with no size', 'pool: {}\nrun: echo\n', 'pool.pool: no size is given', 1),
  refused('a pool with min_workers only', 'pool:\n  min_workers: 1\nrun: echo\n', "'min_workers' needs 'max_workers'", 2)
]

describe('checks SkyPilot makes beyond its schema', () => {
  it.each(cases)('$name', ({ yaml, problem, line, options }) => {
    const { problems } = run(yaml, options)
    if (problem === null) {
      expect(problems).toEqual([])
      return
    }
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining(problem)])
    if (line !== undefined) expect(problems[0]?.line).toBe(line)
    expect(problems[0]?.message).toMatch(ACTIONABLE)
  })
})

describe('how resource problems read', () => {
  it('tells a problem of a field the candidates share once', () => {
    const { problems } = run('resources:\n  cpus: 0\n  any_of: [{infra: aws}, {infra: gcp}]\nrun: echo\n')
    expect(problems.map((p) => p.message)).toEqual(["resources.cpus: must be positive, got '0'. Set it to more than 0 (line 2)"])
    expect(run('resources:\n  accelerators: {A100: 1, H100: 1}\n  disk_tier: fastest\nrun: echo\n').problems).toHaveLength(1)
  })

  it('names the key as written (gpus, not accelerators)', () => {
    expect(run('resources:\n  gpus: A100:x\nrun: echo\n').problems[0]?.message).toMatch(/^resources\.gpus: 'A100:x' is not <name> or <name>:<count>/)
    expect(run('resources:\n  gpus: A100:1:2\nrun: echo\n').problems[0]?.message).toMatch(/^resources\.gpus: 'A100:1:2' names a GPU manufacturer/)
  })
})

describe('pipelines and job groups (dag_utils)', () => {
  const JOB_GROUP = 'name: group\nexecution: parallel\n---\nname: trainer\nrun: echo t\n---\nname: evaluator\nrun: echo e\n'

  it('refuses a job group outside managed mode, even with a single job, saying to use managed mode', () => {
    for (const yaml of [JOB_GROUP, 'name: group\nexecution: parallel\n---\nname: trainer\nrun: echo t\n']) {
      const { problems, info } = run(yaml, { allowPipeline: false })
      expect(info?.kind).toBe('job-group')
      expect(problems.map((p) => p.message)).toEqual([expect.stringContaining("is a job group (its first document says 'execution: parallel'), which only managed jobs run")])
      expect(problems[0]?.message).toContain("Use mode 'managed'")
    }
  })

  it('accepts a job group in managed mode and names each job in its problems', () => {
    expect(run(JOB_GROUP).problems).toEqual([])
    const { problems } = run(JOB_GROUP.replace('run: echo e', 'run: echo e\nnum_nodes: 0'))
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining("Job 'evaluator': num_nodes: must be 1 or more")])
  })

  it.each([
    ['a header without a name', 'execution: parallel\n---\nname: a\nrun: echo\n', "The job-group header (the document with 'execution: parallel') has no 'name'"],
    ['an invalid group name', 'name: g.1\nexecution: parallel\n---\nname: a\nrun: echo\n', "Invalid job group name: 'g.1'"],
    ['a job without a name', 'name: g\nexecution: parallel\n---\nrun: echo\n', "Job 1 of the job group has no 'name'"],
    ['an invalid job name', 'name: g\nexecution: parallel\n---\nname: a.b\nrun: echo\n', "Invalid job name: 'a.b'"],
    ['two jobs of the same name', 'name: g\nexecution: parallel\n---\nname: a\nrun: echo\n---\nname: a\nrun: echo\n', "Two jobs of the job group are named 'a'"],
    ['primary_tasks naming no job', 'name: g\nexecution: parallel\nprimary_tasks: [c]\n---\nname: a\nrun: echo\n', "primary_tasks names 'c', which is not a job of the group"],
    ['a bad termination delay', 'name: g\nexecution: parallel\ntermination_delay: 5x\n---\nname: a\nrun: echo\n', "Invalid time duration for termination_delay: '5x'"],
    ['a boolean termination delay', 'name: g\nexecution: parallel\ntermination_delay: true\n---\nname: a\nrun: echo\n', "Invalid time duration for termination_delay: 'True'"]
  ])('refuses %s', (_name, yaml, message) => {
    expect(run(yaml).problems.map((p) => p.message)).toEqual([expect.stringContaining(message)])
  })

  it('ignores other keys in a job-group header and duplicate keys in its jobs, as SkyPilot does', () => {
    expect(run('name: g\nexecution: parallel\nrun: ignored\n---\nname: a\nrun: echo\nrun: echo again\n').problems).toEqual([])
  })

  it('refuses execution: parallel on a file with one document (a pipeline header then)', () => {
    expect(run('name: p\nexecution: parallel\n').problems[0]?.message).toContain("Invalid execution mode for a pipeline: 'parallel'")
  })

  it('refuses a header with nothing after it, which sky launch then fails on', () => {
    expect(run('name: p\n---\n').problems[0]?.message).toContain('has a pipeline header and no task after it')
    expect(run('name: g\nexecution: parallel\n---\n').problems[0]?.message).toContain('The job group has a header and no job after it')
  })

  it('skips empty documents in a pipeline', () => {
    expect(run('name: p\n---\nrun: a\n---\n---\nrun: b\n').info?.kind).toBe('chain')
  })
})

describe('resource inputs with several tasks', () => {
  const PIPELINE = 'name: p\n---\nname: train\nrun: echo a\n---\nname: eval\nrun: echo b\n'
  const JOB_GROUP = 'name: g\nexecution: parallel\n---\nname: a\nrun: echo\n---\nname: b\nrun: echo\n'

  it('refuses resource overrides for a pipeline or a job group, naming the inputs and what to do', () => {
    const pipeline = run(PIPELINE, { resources: { gpus: 'A100:1', infra: 'aws' } })
    expect(pipeline.problems.map((p) => p.message)).toEqual([
      "The inputs 'infra' and 'gpus' override resources, but the task YAML is a pipeline of 2 tasks, for which SkyPilot ignores resource overrides (it only prints a warning). Set the resources in each task of the file instead, and remove those inputs."
    ])
    const group = run(JOB_GROUP, { resources: { numNodes: 2 } })
    expect(group.problems.map((p) => p.message)).toEqual([expect.stringContaining("The input 'num-nodes' overrides resources, but the task YAML is a job group of 2 jobs")])
    expect(run(JOB_GROUP, { resources: { useSpot: false } }).problems[0]?.message).toContain("'use-spot'")
  })

  it('accepts them for a single task, and accepts a pipeline without them', () => {
    expect(run('run: echo\n', { resources: { gpus: 'A100:1', cpus: '4+', memory: '16+', diskSize: 100 } }).problems).toEqual([])
    expect(run(PIPELINE, { resources: {} }).problems).toEqual([])
    expect(run('name: p\n---\nrun: echo\n', { resources: { infra: 'aws' } }).problems).toEqual([])
  })
})

describe('checks SkyPilot makes at launch, right after loading', () => {
  it('refuses a task name SkyPilot refuses at launch, unless the action names the task with -n', () => {
    expect(run('name: my task\nrun: echo\n', { allowPipeline: false }).problems[0]?.message).toContain("name: 'my task' is not a valid task name")
    // Managed jobs (and job-name) pass -n, which renames a single task: its own name is not checked.
    expect(run('name: my task\nrun: echo\n', { nameGiven: true }).problems).toEqual([])
    // The tasks of a pipeline keep their names.
    expect(run('name: p\n---\nname: my task\nrun: a\n---\nrun: b\n', { nameGiven: true }).problems[0]?.message).toContain("Task 1 of the pipeline: name: 'my task'")
  })

  it('reads nesting as deep as PyYAML does (500 levels), and no deeper', () => {
    const nested = (depth: number) => `config:\n  kubernetes:\n    pod_config:\n${Array.from({ length: depth }, (_, i) => `${'  '.repeat(i + 3)}k:`).join('\n')} 1\nrun: echo\n`
    expect(run(nested(300)).problems).toEqual([])
    expect(run(nested(600)).problems[0]?.message).toContain('nested more than 500 levels deep')
  })
})
