import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { describe, expect, it } from 'vitest'
import type { Resources } from '../../src/inputs.js'
import { parseTaskYaml } from '../../src/task/parse.js'
import { pyStr } from '../../src/task/python.js'
import { validateTask } from '../../src/task/validate.js'
import { ROOT, realSky, run, type YamlVerdict } from './lib/real-sky.js'

/**
 * The action's task validation held against SkyPilot's own loader (the calls `sky launch` and
 * `sky jobs launch` make before anything else: dag_utils, Task.from_yaml_config, Resources,
 * Storage, SkyServiceSpec), both ways: nothing SkyPilot accepts is refused, everything SkyPilot
 * refuses is refused. On every task of examples/, every inline task of templates/, the corpus
 * in test/real/corpus/ and one-change mutations of it, in one Python process.
 */
const rs = realSky()
const CORPUS = path.join(ROOT, 'test', 'real', 'corpus')

interface Case {
  id: string
  text: string
  envs: Record<string, string>
  secrets: Record<string, string>
  /** The action's mode: managed jobs run pipelines and job groups, and always pass -n. */
  mode: 'launch' | 'managed'
  /** The 'job-name' input, passed as -n. */
  jobName?: string
  resources?: Resources
  /** A one-change mutation of a corpus task (either verdict); the others are meant to be valid. */
  mutation?: boolean
}

/**
 * Where agreement with the loader is impossible by nature, and why. `launch`: the action refuses
 * what the loader accepts because `sky launch` / `sky jobs launch` refuses it right after loading
 * (Task.validate on the server, or an assertion on the DAG). `network`: SkyPilot needs its catalog
 * from GitHub, which the offline real tier cannot reach (on a runner it can).
 */
const EXCEPTIONS: Record<string, { kind: 'launch' | 'network'; why: string }> = {
  'multinode.yaml: name: minGPT-ddp → name: my task (mode launch)': { kind: 'launch', why: 'Task.validate_name runs at launch, not in the loader' },
  "minimal.yaml: run: echo \"hello from SkyPilot\" → name: p\\n---\\n": { kind: 'launch', why: 'a pipeline header without a task loads as a DAG of no task; sky launch then fails its assertion' },
  'accelerators-list.yaml: gpus: [H100:8, A100-80GB:8, A100:8] → gpus: "nvidia:80GB:8"': { kind: 'network', why: 'accelerators named by memory are looked up in the catalog SkyPilot downloads' }
}

/** `# real-tier: envs A=1 B=2; secrets C=3` on a corpus file's first line: what the workflow would pass. */
function overridesOf(text: string): { envs: Record<string, string>; secrets: Record<string, string> } {
  const out = { envs: {} as Record<string, string>, secrets: {} as Record<string, string> }
  const header = /^# real-tier: (.*)$/m.exec(text.split('\n')[0] ?? '')?.[1]
  for (const part of header?.split(';') ?? []) {
    const [kind, ...pairs] = part.trim().split(/\s+/)
    if (kind !== 'envs' && kind !== 'secrets') throw new Error(`bad real-tier header: ${part}`)
    for (const pair of pairs) out[kind][pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1)
  }
  return out
}

function corpusCases(): Case[] {
  return fs
    .readdirSync(CORPUS)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(CORPUS, f), 'utf8')
      return { id: f, text, ...overridesOf(text), mode: 'managed' as const }
    })
}

/** The examples, with a stand-in value for each env they require, as their workflows give one. */
function exampleCases(): Case[] {
  const dir = path.join(ROOT, 'examples')
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(dir, f), 'utf8')
      const envs: Record<string, string> = {}
      const docs = parseAllDocuments(text)
      for (const doc of docs) {
        const value = doc.toJS() as { envs?: Record<string, unknown> } | null
        for (const [k, v] of Object.entries(value?.envs ?? {})) if (v === null) envs[k] = `ci-${k.toLowerCase().replace(/_/g, '-')}`
      }
      // A file of several tasks only runs as a managed job.
      return { id: `examples/${f}`, text, envs, secrets: {}, mode: docs.length > 1 ? ('managed' as const) : ('launch' as const) }
    })
}

/** `${{ ... }}` as the runner would leave it: some text (a stand-in; what it will be is unknown here). */
const standIn = (text: string): string => text.replace(/\$\{\{[\s\S]*?\}\}/g, 'stand-in')

/** KEY=VALUE lines or a YAML map, as the action reads `envs` and `secrets`. */
function keyValues(raw: unknown): Record<string, string> {
  if (typeof raw !== 'string') return {}
  const text = standIn(raw)
  const out: Record<string, string> = {}
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
  if (lines.every((l) => /^\s*[A-Za-z_][A-Za-z0-9_]*=/.test(l))) {
    for (const l of lines) out[l.slice(0, l.indexOf('=')).trim()] = l.slice(l.indexOf('=') + 1)
    return out
  }
  const map = parseYaml(text) as Record<string, unknown> | null
  for (const [k, v] of Object.entries(map ?? {})) out[k] = String(v)
  return out
}

/** Every inline task of the workflow templates: `task-yaml` inputs and `task-yaml` entries of `tasks` lists. */
function templateCases(): Case[] {
  const dir = path.join(ROOT, 'templates')
  const cases: Case[] = []
  for (const f of fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const workflow = parseYaml(fs.readFileSync(path.join(dir, f), 'utf8')) as { jobs?: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }> }
    for (const [job, { steps = [] } = {}] of Object.entries(workflow.jobs ?? {})) {
      steps.forEach((step, i) => {
        if (!/skypilot-action|^\.\/?$/.test(step.uses ?? '') || !step.with) return
        const w = step.with
        const resources: Resources = {
          ...(w.infra ? { infra: standIn(String(w.infra)) } : {}),
          ...(w.gpus ? { gpus: standIn(String(w.gpus)) } : {}),
          ...(w.cpus ? { cpus: standIn(String(w.cpus)) } : {}),
          ...(w.memory ? { memory: standIn(String(w.memory)) } : {})
        }
        const base = {
          envs: keyValues(w.envs),
          secrets: keyValues(w.secrets),
          mode: w.mode === 'managed' ? ('managed' as const) : ('launch' as const),
          ...(w['job-name'] ? { jobName: standIn(String(w['job-name'])) } : {}),
          resources
        }
        if (typeof w['task-yaml'] === 'string') cases.push({ id: `templates/${f} ${job} step ${i + 1}`, text: standIn(w['task-yaml']), ...base })
        if (typeof w.tasks === 'string' && !w.tasks.trim().startsWith('${{')) {
          const items = parseYaml(w.tasks) as { name?: string; 'task-yaml'?: string; envs?: Record<string, string> }[]
          for (const item of items ?? []) {
            if (typeof item['task-yaml'] !== 'string') continue
            cases.push({ id: `templates/${f} ${job} step ${i + 1} task ${item.name}`, text: standIn(item['task-yaml']), ...base, envs: { ...base.envs, ...(item.envs ?? {}) } })
          }
        }
      })
    }
  }
  return cases
}

interface Mutation {
  base: string
  from: string
  to: string
  /** Overrides dropped or added for this mutation. */
  dropEnv?: string
  dropSecret?: string
  env?: Record<string, string>
  /** Run in this mode instead of the corpus's managed mode. */
  mode?: 'launch'
}

/**
 * One small change to a corpus task each, on both sides of SkyPilot's rules (what it accepts and
 * what it refuses); the verdict to expect is SkyPilot's, not written here.
 */
const MUTATIONS: Mutation[] = [
  // resources: tiers, sizes, autostop, local disk
  { base: 'autostop.yaml', from: 'disk_tier: high', to: 'disk_tier: fastest' },
  { base: 'autostop.yaml', from: 'disk_tier: high', to: 'disk_tier: ULTRA' },
  { base: 'autostop.yaml', from: 'disk_size: 512', to: 'disk_size: 0' },
  { base: 'autostop.yaml', from: 'disk_size: 512', to: 'disk_size: 512.0' },
  { base: 'autostop.yaml', from: 'disk_size: 512', to: 'disk_size: 2TB' },
  { base: 'autostop.yaml', from: 'disk_size: 512', to: 'disk_size: 512GB+' },
  { base: 'autostop.yaml', from: 'wait_for: jobs', to: 'wait_for: ssh' },
  { base: 'autostop.yaml', from: 'idle_minutes: 30', to: 'idle_minutes: -1' },
  { base: 'autostop-short.yaml', from: 'autostop: 2h', to: 'autostop: 2x' },
  { base: 'autostop-short.yaml', from: 'autostop: 2h', to: 'autostop: -5' },
  { base: 'autostop-short.yaml', from: 'autostop: 2h', to: 'autostop: off' },
  { base: 'autostop-short.yaml', from: 'local_disk: nvme:500+', to: 'local_disk: hdd:500' },
  { base: 'autostop-short.yaml', from: 'local_disk: nvme:500+', to: 'local_disk: ssd' },
  { base: 'autostop-short.yaml', from: 'local_disk: nvme:500+', to: 'local_disk: 0' },
  // ports, labels, network tier
  { base: 'ports-labels.yaml', from: '[8080, "9000-9010", "7000,7001"]', to: '70000' },
  { base: 'ports-labels.yaml', from: '[8080, "9000-9010", "7000,7001"]', to: '"9010-9000"' },
  { base: 'ports-labels.yaml', from: '[8080, "9000-9010", "7000,7001"]', to: '"8080, 8081"' },
  { base: 'ports-labels.yaml', from: '[8080, "9000-9010", "7000,7001"]', to: '[0]' },
  { base: 'ports-labels.yaml', from: 'network_tier: best', to: 'network_tier: premium' },
  { base: 'ports-labels.yaml', from: 'cost-center: "1234"', to: 'cost-center: 1234' },
  // cpus, memory, infra, accelerators
  { base: 'any-of.yaml', from: 'cpus: 8+', to: 'cpus: 0' },
  { base: 'any-of.yaml', from: 'cpus: 8+', to: 'cpus: "8++"' },
  { base: 'any-of.yaml', from: 'cpus: 8+', to: 'cpus: 0.5' },
  { base: 'any-of.yaml', from: 'memory: 32+', to: 'memory: 32GB+' },
  { base: 'any-of.yaml', from: 'memory: 32+', to: 'memory: 0' },
  { base: 'any-of.yaml', from: 'memory: 32+', to: 'memory: 16x' },
  { base: 'any-of.yaml', from: 'infra: gcp\n', to: 'cloud: gcp\n      region: us-central1\n' },
  { base: 'any-of.yaml', from: 'infra: gcp\n', to: 'infra: gcp\n      cloud: gcp\n' },
  { base: 'any-of.yaml', from: 'infra: aws/us-east-1', to: 'infra: aws//us-east-1' },
  { base: 'any-of.yaml', from: 'infra: k8s/my-cluster-context', to: 'infra: k8s/ctx//x' },
  { base: 'any-of.yaml', from: 'infra: aws/us-east-1', to: 'infra: digitalocean/nyc3' },
  { base: 'any-of.yaml', from: 'infra: aws/us-east-1', to: 'infra: do/nyc3' },
  { base: 'any-of.yaml', from: 'gpus: L4:1', to: 'gpus: L4:1\n      accelerators: L4:1' },
  { base: 'any-of.yaml', from: 'accelerators: A10G:1', to: 'accelerators: tpu-v2-8' },
  { base: 'ordered.yaml', from: 'accelerators: A100:8', to: 'accelerators: [A100:8, H100:8]' },
  { base: 'ordered.yaml', from: 'accelerators: A100:8', to: 'accelerators: {A100: 8, H100: 8}' },
  { base: 'ordered.yaml', from: '  ordered:', to: '  any_of:' },
  { base: 'accelerators.yaml', from: 'A100: 8, H100: 8', to: 'A100: 0, H100: 8' },
  { base: 'accelerators.yaml', from: 'A100: 8, H100: 8', to: 'A100: 0.5, H100: 8' },
  { base: 'accelerators.yaml', from: 'A100: 8, H100: 8', to: 'A100: null, H100: 8' },
  { base: 'accelerators.yaml', from: 'A100: 8, H100: 8', to: 'A100: eight, H100: 8' },
  { base: 'accelerators-list.yaml', from: 'gpus: [H100:8, A100-80GB:8, A100:8]', to: 'gpus: [H100:x]' },
  { base: 'accelerators-list.yaml', from: 'gpus: [H100:8, A100-80GB:8, A100:8]', to: 'gpus: H100:8:1' },
  { base: 'accelerators-list.yaml', from: 'gpus: [H100:8, A100-80GB:8, A100:8]', to: 'gpus: "nvidia:80GB:8"' },
  { base: 'accelerators-list.yaml', from: 'strategy: EAGER_NEXT_REGION', to: 'strategy: SOMETHING_ELSE' },
  { base: 'accelerators-list.yaml', from: 'max_restarts_on_errors: 3', to: 'max_restarts_on_errors: -1' },
  { base: 'fractional-gpu.yaml', from: 'accelerators: T4:0.5', to: 'accelerators: T4:-1' },
  { base: 'fractional-gpu.yaml', from: 'infra: kubernetes', to: 'infra: kubernetes\n  ephemeral_storage: 10GB' },
  { base: 'tpu.yaml', from: 'infra: gcp/us-west4', to: 'infra: aws/us-east-1' },
  { base: 'tpu.yaml', from: '  accelerator_args:', to: '  instance_type: n2-standard-8\n  accelerator_args:' },
  { base: 'tpu.yaml', from: 'tpu_vm: true', to: 'tpu_vm: false' },
  { base: 'image-ids.yaml', from: 'us-west-2: ami-050814f384259894c', to: 'us-west-2: docker:ubuntu:20.04' },
  { base: 'image-ids.yaml', from: 'docker: ubuntu:22.04', to: 'docker: 22' },
  { base: 'kubernetes.yaml', from: 'memory: 8GB+', to: 'memory: 8MB+' },
  { base: 'kubernetes.yaml', from: 'ephemeral_storage: 50GB', to: 'ephemeral_storage: 50GB+' },
  { base: 'kubernetes.yaml', from: 'provision_timeout: 900', to: 'provision_timeout: 15m' },
  { base: 'slurm.yaml', from: 'infra: slurm/hpc-cluster', to: 'infra: aws' },
  { base: 'slurm.yaml', from: 'exclusive: true', to: 'exclusive: [a]' },
  // the task itself
  { base: 'multinode.yaml', from: 'num_nodes: 2', to: 'num_nodes: 0' },
  { base: 'multinode.yaml', from: 'num_nodes: 2', to: 'num_nodes: 2.0' },
  { base: 'multinode.yaml', from: 'num_nodes: 2', to: 'num_nodes: "2"' },
  { base: 'multinode.yaml', from: 'num_nodes: 2', to: 'num_nodes: true' },
  { base: 'multinode.yaml', from: 'num_nodes: 2', to: 'num_nodes: 0x2' },
  { base: 'multinode.yaml', from: 'name: minGPT-ddp', to: 'name: my task' },
  { base: 'multinode.yaml', from: 'name: minGPT-ddp', to: 'name: my task', mode: 'launch' },
  { base: 'workdir-dot.yaml', from: 'workdir: .', to: 'workdir: ..' },
  { base: 'workdir-dot.yaml', from: 'workdir: .', to: 'workdir: 1.5' },
  { base: 'workdir-dot.yaml', from: 'workdir: .', to: 'workdir: {ref: main}' },
  { base: 'workdir-dot.yaml', from: 'cpus: 4+', to: 'cpus: [4]' },
  { base: 'workdir-git.yaml', from: 'ref: main', to: 'ref: 2024-01-01' },
  // file mounts and storage
  { base: 'file-mounts.yaml', from: '/remote/config.yaml: ./config.yaml', to: '/remote/config.yaml: [./config.yaml]' },
  { base: 'file-mounts.yaml', from: '/remote/config.yaml: ./config.yaml', to: '/remote/config.yaml: 1' },
  { base: 'file-mounts.yaml', from: '/models: gs://example-models/resnet50', to: '1: gs://example-models/resnet50' },
  { base: 'storage.yaml', from: 'mode: COPY', to: 'mode: SYNC' },
  { base: 'storage.yaml', from: 'type: DATASET_RO', to: 'type: DATASET_XX' },
  { base: 'storage.yaml', from: 'mode: MOUNT_CACHED', to: 'mode: MOUNT' },
  { base: 'storage.yaml', from: '    mode: mount\n', to: '    mode: copy\n' },
  { base: 'storage.yaml', from: 'store: s3\n    mode: MOUNT\n', to: 'store: ftp\n    mode: MOUNT\n' },
  { base: 'storage.yaml', from: 'store: gcs', to: 'store: hf' },
  { base: 'storage.yaml', from: 'persistent: true', to: 'persistent: yes' },
  { base: 'storage.yaml', from: 'persistent: true', to: 'persistent: "true"' },
  { base: 'storage.yaml', from: 'transfers: 8', to: 'transfers: 0' },
  // envs and secrets
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: 10', dropEnv: 'MODEL' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: {a: 1}' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: '1EPOCHS: 10' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'on: 10' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: 2024-02-30' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: 2024-02-28' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: =' },
  { base: 'envs-required.yaml', from: 'EPOCHS: 10', to: 'EPOCHS: 10', env: { DATA_BUCKET: 'bad"bucket' } },
  { base: 'secrets-map.yaml', from: 'INLINE_TOKEN', to: 'INLINE_TOKEN', dropSecret: 'HF_TOKEN' },
  { base: 'secrets-map.yaml', from: '"secrets:SHARED_KEY": null', to: '"secrets:SHARED_KEY": value' },
  { base: 'secrets-map.yaml', from: 'INLINE_TOKEN: not-really-secret', to: 'INLINE_TOKEN: 2024-01-01' },
  { base: 'secrets-list.yaml', from: '- WANDB_API_KEY', to: '- WANDB_API_KEY', dropSecret: 'WANDB_API_KEY' },
  { base: 'secrets-list.yaml', from: '  - secrets:personal.GITHUB_TOKEN', to: '  - {GITHUB_TOKEN: {mount_path: /run/secrets/gh}}' },
  { base: 'docker.yaml', from: '  SKYPILOT_DOCKER_SERVER: nvcr.io\n', to: '' },
  { base: 'docker.yaml', from: 'SKYPILOT_DOCKER_PASSWORD: null', to: 'SKYPILOT_DOCKER_PASSWORD: null', dropSecret: 'SKYPILOT_DOCKER_PASSWORD' },
  // pipelines and job groups
  { base: 'pipeline.yaml', from: 'execution: serial', to: 'execution: sideways' },
  { base: 'pipeline.yaml', from: 'execution: serial', to: 'execution: parallel' },
  { base: 'pipeline.yaml', from: 'name: train\n', to: 'name: train\nnum_nodes: 0\n' },
  { base: 'pipeline.yaml', from: 'name: eval\n', to: 'name: eval\nname: evaluate\n' },
  { base: 'pipeline-no-header.yaml', from: 'name: stage-two', to: 'name: stage-one' },
  { base: 'job-group.yaml', from: 'primary_tasks: [trainer]', to: 'primary_tasks: [coach]' },
  { base: 'job-group.yaml', from: 'primary_tasks: [trainer]', to: 'primary_tasks: trainer' },
  { base: 'job-group.yaml', from: 'default: 30s', to: 'default: 30x' },
  { base: 'job-group.yaml', from: 'replay-buffer: 1m', to: 'replayer: 1m' },
  { base: 'job-group.yaml', from: 'name: rl-training', to: 'name: rl.training' },
  { base: 'job-group.yaml', from: 'name: evaluator', to: 'name: trainer' },
  { base: 'job-group.yaml', from: 'name: evaluator', to: 'name: eval.uator' },
  { base: 'job-group.yaml', from: 'run: python evaluate.py', to: 'run: python evaluate.py\nrun: python again.py' },
  { base: 'job-group.yaml', from: 'primary_tasks: [trainer]', to: 'primary_tasks: [trainer]\nrun: ignored' },
  { base: 'job-group.yaml', from: 'name: rl-training\n', to: '' },
  // services and pools
  { base: 'service.yaml', from: 'max_replicas: 4', to: 'max_replicas: 0' },
  { base: 'service.yaml', from: '    target_qps_per_replica: 2.5\n', to: '' },
  { base: 'service.yaml', from: 'load_balancing_policy: least_load', to: 'load_balancing_policy: LEAST_LOAD' },
  { base: 'service.yaml', from: 'path: /v1/chat/completions', to: 'path: v1/chat/completions' },
  { base: 'service.yaml', from: 'initial_delay_seconds: 1200', to: 'initial_delay_seconds: 20m' },
  { base: 'service.yaml', from: 'model: $MODEL_NAME', to: 'model: 2024-01-01' },
  { base: 'service-simple.yaml', from: '  replicas: 2\n', to: '  replicas: 2\n  replica_policy: {min_replicas: 1}\n' },
  { base: 'service-simple.yaml', from: '  replicas: 2\n  ports: 8080', to: '  replicas: 2\n  ports: 8080.0' },
  { base: 'service-simple.yaml', from: '  replicas: 2\n  ports: 8080', to: '  replicas: 2\n  ports: 70000' },
  { base: 'service-simple.yaml', from: 'readiness_probe: /health', to: 'readiness_probe: health' },
  { base: 'service-instance-aware.yaml', from: 'load_balancing_policy: instance_aware_least_load', to: 'load_balancing_policy: round_robin' },
  { base: 'pool.yaml', from: 'max_workers: 4', to: 'max_workers: 0' },
  { base: 'pool.yaml', from: '  max_workers: 4\n', to: '' },
  { base: 'pool.yaml', from: 'queue_length_threshold: 2', to: 'queue_length_threshold: 0' },
  { base: 'pool.yaml', from: 'pool:\n', to: 'service:\n  readiness_probe: /\npool:\n' },
  { base: 'volumes.yaml', from: '    name: ckpt-volume\n', to: '' },
  { base: 'volumes.yaml', from: '/mnt/data: my-pvc', to: '/mnt/data: 1' },
  // YAML as PyYAML reads it
  { base: 'anchors.yaml', from: '<<: *gpu', to: '<<: *cpu' },
  { base: 'anchors.yaml', from: '<<: *gpu', to: '<<: [*gpu, *gpu]' },
  { base: 'anchors.yaml', from: '<<: *gpu', to: '<<: 1' },
  { base: 'anchors-any-of.yaml', from: '<<: [*base]', to: '<<: [*base, 1]' },
  { base: 'yaml11-scalars.yaml', from: 'DOT: .', to: 'DOT: =' },
  { base: 'yaml11-scalars.yaml', from: 'DATE: 2024-01-01', to: 'DATE: 2024-13-01' },
  { base: 'yaml11-scalars.yaml', from: 'HEX: 0x1F', to: 'HEX: 0x_' },
  { base: 'yaml11-scalars.yaml', from: 'cpus: 2.5', to: 'cpus: .5' },
  { base: 'yaml11-scalars.yaml', from: 'cpus: 2.5', to: 'cpus: -.5' },
  { base: 'yaml11-scalars.yaml', from: 'memory: 16.0', to: 'memory: 1e5' },
  { base: 'yaml11-scalars.yaml', from: 'workdir: .', to: 'workdir: 2024-01-01' },
  { base: 'yaml11-scalars.yaml', from: 'name: yaml11-scalars', to: 'name: 2024-01-01' },
  { base: 'yaml11-scalars.yaml', from: 'LR: 1e-4', to: 'LR: !!python/object:os.system x' },
  { base: 'yaml11-scalars.yaml', from: 'LR: 1e-4', to: 'LR: !!binary aGVsbG8=' },
  { base: 'yaml11-scalars.yaml', from: 'LR: 1e-4', to: 'LR: !!set {a, b}' },
  { base: 'config-hooks.yaml', from: 'events: [stop, preemption]', to: 'events: [stop, reboot]' },
  { base: 'config-hooks.yaml', from: 'timeout: 120', to: 'timeout: 0' },
  { base: 'config-hooks.yaml', from: 'priority: 500', to: 'priority: 5000' },
  { base: 'config-hooks.yaml', from: 'disable_ecc: true', to: 'disable_ecc: yes' },
  // whole-file shapes
  ...[
    '',
    'run: [echo, hi]',
    'run: echo hi\nrun: echo bye',
    'run: echo hi\n"run": echo bye',
    'run: echo hi\n---\n',
    'name: p\n---\n',
    '- run: echo',
    'run: echo\nresources:\n  hooks: [{run: x}]',
    'run: echo\ninputs: {}',
    'run: echo\ninputs: {s3://bucket/in: 10}',
    'run: echo\nenvs:',
    'run: echo\non: push',
    'run:\techo',
    'run: echo: hi'
  ].map((to) => ({ base: 'minimal.yaml', from: 'run: echo "hello from SkyPilot"', to }))
]

function mutationCases(corpus: Case[]): Case[] {
  return MUTATIONS.map((m) => {
    const base = corpus.find((c) => c.id === m.base)
    if (!base) throw new Error(`mutation of a missing corpus file: ${m.base}`)
    if (!base.text.includes(m.from)) throw new Error(`${m.base} no longer holds ${JSON.stringify(m.from)}: update the mutation`)
    const envs = { ...base.envs, ...m.env }
    const secrets = { ...base.secrets }
    if (m.dropEnv) delete envs[m.dropEnv]
    if (m.dropSecret) delete secrets[m.dropSecret]
    const change = m.dropEnv ? `without env ${m.dropEnv}` : m.dropSecret ? `without secret ${m.dropSecret}` : m.env ? `with env ${JSON.stringify(m.env)}` : `${m.from} → ${m.to}`
    const id = `${m.base}: ${change}${m.mode ? ` (mode ${m.mode})` : ''}`.replace(/\n/g, '\\n')
    return { ...base, id, text: base.text.replace(m.from, m.to), envs, secrets, mutation: true, ...(m.mode ? { mode: m.mode } : {}) }
  })
}

/** What the action says, called as src/run/prepare.ts calls it. */
function actionVerdict(c: Case): { ok: boolean; problems: string[] } {
  // sky always hands its loader an env list (empty without --env): the dummy env puts the batch
  // loader on that same path (otherwise it also runs Task.from_yaml, which only reads one document).
  const { problems } = validateTask(c.text, {
    envs: { ...c.envs, REAL_TIER: '1' },
    secrets: c.secrets,
    allowPipeline: c.mode === 'managed',
    ...(c.resources ? { resources: c.resources } : {}),
    nameGiven: c.mode === 'managed' || Boolean(c.jobName)
  })
  return { ok: problems.length === 0, problems: problems.map((p) => p.message) }
}

describe('task validation agrees with SkyPilot', () => {
  it("on the examples, the templates' inline tasks, the corpus and its mutations", async () => {
    const corpus = corpusCases()
    const cases = [...exampleCases(), ...templateCases(), ...corpus, ...mutationCases(corpus)]
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-validation-'))
    try {
      const files = cases.map((c, i) => {
        const file = path.join(dir, `${String(i).padStart(3, '0')}.yaml`)
        fs.writeFileSync(file, c.text)
        return file
      })
      const started = Date.now()
      const verdicts: YamlVerdict[] = await rs.validate(
        cases.map((c, i) => ({ file: files[i] as string, env: [...Object.entries(c.envs), ['REAL_TIER', '1']], secrets: Object.entries(c.secrets) }))
      )
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      const disagreements: string[] = []
      const exceptions: string[] = []
      let agreed = 0
      let skyRefused = 0
      cases.forEach((c, i) => {
        const sky = verdicts[i] as YamlVerdict
        const action = actionVerdict(c)
        if (!sky.ok) skyRefused++
        const known = EXCEPTIONS[c.id]
        if (known) {
          // A listed exception must still be what it says it is, or it is no longer needed.
          const holds = known.kind === 'launch' ? sky.ok && !action.ok : !sky.ok && /ConnectionError|catalog/i.test(sky.error ?? '') && action.ok
          if (!holds) disagreements.push(`${c.id}: listed as ${known.kind} (${known.why}) but sky=${sky.ok ? 'valid' : sky.error} action=${action.ok ? 'valid' : action.problems.join(' | ')}`)
          exceptions.push(c.id)
          return
        }
        if (sky.ok === action.ok) agreed++
        else disagreements.push(`${c.id}: SkyPilot ${sky.ok ? 'accepts' : `refuses (${sky.error?.split('\n')[0]})`}, the action ${action.ok ? 'accepts' : `refuses: ${action.problems.join(' | ')}`}`)
      })
      console.log(
        `task validation vs SkyPilot's loader: ${cases.length} tasks compared, ${agreed} agreed, ${exceptions.length} listed exceptions ` +
          `(${Object.values(EXCEPTIONS).filter((e) => e.kind === 'launch').length} checked at launch, ${Object.values(EXCEPTIONS).filter((e) => e.kind === 'network').length} needs the network); ` +
          `SkyPilot refused ${skyRefused}; one Python batch, ${seconds} s`
      )
      if (process.env.REAL_TIER_VERDICTS) fs.writeFileSync(process.env.REAL_TIER_VERDICTS, cases.map((c, i) => `${verdicts[i]?.ok ? 'valid  ' : 'refused'} ${c.id}${verdicts[i]?.ok ? '' : `: ${verdicts[i]?.error?.split('\n')[0]}`}`).join('\n') + '\n')
      expect(disagreements).toEqual([])
      // The tasks meant to be valid (examples, templates, the corpus itself) are: the mutations start from valid tasks.
      expect(cases.filter((c, i) => !c.mutation && !verdicts[i]?.ok).map((c) => c.id)).toEqual([])
      expect(agreed + exceptions.length).toBe(cases.length)
      expect(exceptions.sort()).toEqual(Object.keys(EXCEPTIONS).sort())
      // Both sides of SkyPilot's rules are exercised, and every source contributed.
      expect(skyRefused).toBeGreaterThan(50)
      expect(cases.length - skyRefused).toBeGreaterThan(50)
      expect(cases.filter((c) => c.id.startsWith('templates/')).length).toBeGreaterThan(0)
      expect(cases.filter((c) => c.id.startsWith('examples/')).length).toBeGreaterThan(0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('on plain scalars: the table of the unit tests is what the PyYAML SkyPilot runs on resolves', async () => {
    const table = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/tasks/pyyaml-scalars.json'), 'utf8')) as {
      text: string
      value: { type?: string; str?: string; error?: string }
      key?: { type?: string; str?: string; error?: string }
    }[]
    const real = await pyyamlResolves(table.map((r) => r.text))
    const simplify = (r: { type?: string; str?: string; error?: string }) => (r.error ? { error: 'error' } : r)
    const action = (text: string, as: 'value' | 'key') => {
      const parsed = parseTaskYaml(as === 'value' ? `k: ${text}\n` : `${text}: 1\n`)
      const d = parsed.documents[0]
      if (parsed.problems.length > 0 || d?.py.type !== 'dict') return { error: 'error' }
      const node = as === 'value' ? d.py.entries[0]?.value : d.py.entries[0]?.key
      return node ? { type: node.type, str: pyStr(node) } : { error: 'error' }
    }
    const mismatches: string[] = []
    table.forEach((row, i) => {
      const r = real[i] as (typeof table)[number]
      for (const as of ['value', 'key'] as const) {
        if (as === 'key' && !row.key) continue
        const expected = simplify(r[as] ?? { error: 'missing' })
        const table = simplify(row[as] ?? { error: 'missing' })
        const got = action(row.text, as)
        if (JSON.stringify(expected) !== JSON.stringify(table)) mismatches.push(`${row.text} as ${as}: the table says ${JSON.stringify(table)}, PyYAML ${JSON.stringify(expected)}`)
        if (JSON.stringify(expected) !== JSON.stringify(got)) mismatches.push(`${row.text} as ${as}: the action reads ${JSON.stringify(got)}, PyYAML ${JSON.stringify(expected)}`)
      }
    })
    console.log(`plain scalars vs PyYAML: ${table.length} scalars as values and keys, ${mismatches.length} mismatches`)
    expect(mismatches).toEqual([])
  })
})

/** Each text as a value (`k: text`) and a key (`text: 1`), resolved by the PyYAML of the real SkyPilot (CSafeLoader, as SkyPilot loads). */
async function pyyamlResolves(texts: string[]): Promise<{ value: { type?: string; str?: string; error?: string }; key?: { type?: string; str?: string; error?: string } }[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-scalars-'))
  const script = path.join(dir, 'scalars.py')
  const input = path.join(dir, 'texts.json')
  fs.writeFileSync(input, JSON.stringify(texts))
  fs.writeFileSync(
    script,
    [
      'import json, sys, yaml',
      '# sky/utils/yaml_utils.py safe_load_all: the C loader when PyYAML has it (without importing SkyPilot: seconds saved).',
      "LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)",
      '',
      'def read(text):',
      '    try:',
      '        return True, list(yaml.load_all(text, Loader=LOADER))[0]',
      '    except Exception as e:  # pylint: disable=broad-except',
      '        return False, type(e).__name__',
      '',
      'def describe(ok, v):',
      "    return {'type': type(v).__name__, 'str': str(v)} if ok else {'error': v}",
      '',
      'out = []',
      'for text in json.load(open(sys.argv[1])):',
      "    ok, v = read('k: ' + text + '\\n')",
      "    row = {'value': describe(ok, v['k'] if ok else v)}",
      "    if text != '':",
      "        ok, v = read(text + ': 1\\n')",
      "        row['key'] = describe(ok, list(v.keys())[0] if ok else v)",
      '    out.append(row)',
      'print(json.dumps(out))'
    ].join('\n')
  )
  try {
    const python = rs.kind === 'tool' ? [path.join(ROOT, 'test/real/lib/chroot-python')] : [path.join(process.env.REAL_SKY_VENV as string, 'bin', 'python')]
    const [command, ...pre] = python as [string, ...string[]]
    const r = await run(command, [...pre, script, input], { cwd: ROOT, env: { ...process.env, ...(rs.kind === 'tool' ? { REAL_SKY_TOOL: path.dirname(rs.binDir) } : {}) } })
    if (r.code !== 0) throw new Error(`PyYAML scalar check failed (exit ${r.code}): ${r.stderr.slice(-2000)}`)
    return JSON.parse(r.stdout.trim().split('\n').at(-1) as string)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
