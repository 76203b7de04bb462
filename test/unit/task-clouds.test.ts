import { describe, expect, it } from 'vitest'
import { canonicalCloud, cloudOfInfra, cloudOfStore, extrasForClouds } from '../../src/task/clouds.js'
import { validateTask } from '../../src/task/validate.js'

/**
 * The clouds of SkyPilot's registry (sky/utils/registry.py CLOUD_REGISTRY, sky/clouds/) and the
 * pip extras of sky/setup_files/dependencies.py `cloud_dependencies`, as of the SkyPilot the real
 * tier runs (commit 059757f).
 */
const REGISTRY = [
  'aws', 'azure', 'cudo', 'do', 'fluidstack', 'gcp', 'hyperbolic', 'ibm', 'kubernetes', 'lambda', 'mithril', 'nebius',
  'oci', 'paperspace', 'primeintellect', 'runpod', 'scp', 'seeweb', 'shadeform', 'slurm', 'ssh', 'vast', 'verda',
  'vsphere', 'yotta'
]
const EXTRAS = [
  'aws', 'azure', 'cloudflare', 'coreweave', 'cudo', 'do', 'docker', 'fluidstack', 'gcp', 'huggingface', 'hyperbolic',
  'ibm', 'kubernetes', 'lambda', 'mithril', 'nebius', 'oci', 'paperspace', 'primeintellect', 'runpod', 'scp', 'seeweb',
  'shadeform', 'slurm', 'ssh', 'vast', 'vastdata', 'verda', 'vsphere', 'yotta'
]

describe('extrasForClouds', () => {
  it('gives every cloud of the registry its own extra', () => {
    for (const cloud of REGISTRY) expect(extrasForClouds([cloud])).toEqual([cloud])
    expect(extrasForClouds(REGISTRY).every((e) => EXTRAS.includes(e))).toBe(true)
  })

  it('knows the aliases k8s and digitalocean, in any case', () => {
    expect(extrasForClouds(['K8s', 'DigitalOcean'])).toEqual(['do', 'kubernetes'])
    expect(canonicalCloud('digitalocean')).toBe('do')
    expect(cloudOfInfra('digitalocean/nyc3')).toBe('do')
  })

  it('maps every storage type to the extra that handles it, HF and VASTDATA included', () => {
    const stores: Record<string, string> = { S3: 'aws', GCS: 'gcp', AZURE: 'azure', R2: 'cloudflare', IBM: 'ibm', OCI: 'oci', NEBIUS: 'nebius', COREWEAVE: 'coreweave', VASTDATA: 'vastdata', HF: 'huggingface' }
    for (const [store, extra] of Object.entries(stores)) expect(extrasForClouds([cloudOfStore(store) ?? 'none'])).toEqual([extra])
    expect(cloudOfStore('volume')).toBeUndefined()
  })

  it('drops names it does not know, object keys included; sorts and deduplicates', () => {
    expect(extrasForClouds(['kubernetes', 'AWS', 'gcp', 'aws', 'k8s', 'nope', 'constructor', 'toString'])).toEqual(['aws', 'gcp', 'kubernetes'])
    expect(extrasForClouds([])).toEqual([])
  })

  it('finds the extras a task needs, from infra, storage and aliases', () => {
    const yaml = 'resources:\n  infra: slurm/cluster-a\nfile_mounts:\n  /w:\n    name: weights\n    store: hf\n  /d:\n    name: data\n    store: vastdata\nrun: echo\n'
    const { info, problems } = validateTask(yaml, { envs: {}, secrets: {} })
    expect(problems).toEqual([])
    expect(extrasForClouds(info?.clouds ?? [])).toEqual(['huggingface', 'slurm', 'vastdata'])
  })
})
