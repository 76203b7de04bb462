// Which clouds a task names, and which SkyPilot pip extras those clouds need.

/**
 * Clouds that have a pip extra of their own in SkyPilot
 * (sky/setup_files/dependencies.py `cloud_dependencies`). `ssh` and
 * `coreweave` have their own extras too (they pull the Kubernetes client).
 */
const EXTRAS = new Set([
  'aws', 'azure', 'cloudflare', 'coreweave', 'cudo', 'do', 'fluidstack', 'gcp', 'hyperbolic', 'ibm',
  'kubernetes', 'lambda', 'nebius', 'oci', 'paperspace', 'primeintellect', 'runpod', 'scp', 'seeweb',
  'shadeform', 'ssh', 'vast', 'vsphere'
])

/** Clouds SkyPilot knows (the `cloud` enum of its resources schema), plus storage-only ones. */
const KNOWN_CLOUDS = new Set([
  'aws', 'azure', 'gcp', 'ibm', 'lambda', 'scp', 'oci', 'kubernetes', 'runpod', 'vast', 'vsphere', 'cudo',
  'fluidstack', 'paperspace', 'primeintellect', 'do', 'nebius', 'ssh', 'slurm', 'hyperbolic', 'seeweb',
  'shadeform', 'yotta', 'mithril', 'verda', 'cloudflare', 'coreweave'
])

/** Spellings SkyPilot accepts for a cloud, mapped to its canonical lower-case name. */
const CLOUD_ALIASES: Record<string, string> = { k8s: 'kubernetes' }

/** Storage `store:` values mapped to the cloud whose extra handles them. */
const STORE_CLOUDS: Record<string, string> = {
  s3: 'aws',
  gcs: 'gcp',
  azure: 'azure',
  r2: 'cloudflare',
  ibm: 'ibm',
  oci: 'oci',
  nebius: 'nebius',
  coreweave: 'coreweave'
}

/** Canonical lower-case name of a cloud SkyPilot knows, or undefined. */
export function canonicalCloud(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const lower = value.trim().toLowerCase()
  const name = CLOUD_ALIASES[lower] ?? lower
  return KNOWN_CLOUDS.has(name) ? name : undefined
}

/** The cloud named by an `infra:` value (`aws/us-east-1`, `k8s/ctx`), none for `*`. */
export function cloudOfInfra(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const first = value.trim().split('/')[0] ?? ''
  if (first === '' || first === '*') return undefined
  return canonicalCloud(first)
}

/** The cloud behind a storage `store:` value (`s3` → `aws`), if it has one. */
export function cloudOfStore(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return STORE_CLOUDS[value.trim().toLowerCase()]
}

/** SkyPilot pip extras for the given clouds: sorted, deduplicated, unknown clouds dropped. */
export function extrasForClouds(clouds: string[]): string[] {
  const extras = new Set<string>()
  for (const cloud of clouds) {
    const name = canonicalCloud(cloud)
    if (name !== undefined && EXTRAS.has(name)) extras.add(name)
  }
  return [...extras].sort()
}
