// Which clouds (and storage providers) a task names, and which SkyPilot pip extras they need.

/**
 * SkyPilot's cloud registry (sky/clouds/, CLOUD_REGISTRY): every cloud a task can name in
 * `cloud:` or `infra:`. Each has a pip extra of the same name in
 * sky/setup_files/dependencies.py `cloud_dependencies` (some of them empty, which is harmless).
 */
const CLOUDS = [
  'aws', 'azure', 'cudo', 'do', 'fluidstack', 'gcp', 'hyperbolic', 'ibm', 'kubernetes', 'lambda', 'mithril', 'nebius',
  'oci', 'paperspace', 'primeintellect', 'runpod', 'scp', 'seeweb', 'shadeform', 'slurm', 'ssh', 'vast', 'verda',
  'vsphere', 'yotta'
]

/** Providers that only hold storage (no cloud of their own), with their extra. */
const STORAGE_PROVIDERS: Record<string, string> = {
  cloudflare: 'cloudflare',
  coreweave: 'coreweave',
  vastdata: 'vastdata',
  huggingface: 'huggingface'
}

/** Extra of each cloud or storage provider. */
const EXTRAS: Record<string, string> = {
  ...Object.fromEntries(CLOUDS.map((c) => [c, c])),
  ...STORAGE_PROVIDERS
}

/** The cloud registry's aliases (CLOUD_REGISTRY._aliases), mapped to the canonical name. */
const CLOUD_ALIASES: Record<string, string> = { k8s: 'kubernetes', digitalocean: 'do' }

/** Storage `store:` values (sky/data/storage.py StoreType) mapped to the cloud or provider whose extra handles them. */
const STORE_PROVIDERS: Record<string, string> = {
  s3: 'aws',
  gcs: 'gcp',
  azure: 'azure',
  r2: 'cloudflare',
  ibm: 'ibm',
  oci: 'oci',
  nebius: 'nebius',
  coreweave: 'coreweave',
  vastdata: 'vastdata',
  hf: 'huggingface'
}

/** Canonical lower-case name of a cloud or storage provider SkyPilot knows, or undefined. */
export function canonicalCloud(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const lower = value.trim().toLowerCase()
  const name = CLOUD_ALIASES[lower] ?? lower
  return Object.hasOwn(EXTRAS, name) ? name : undefined
}

/** The cloud named by an `infra:` value (`aws/us-east-1`, `k8s/ctx`), none for `*`. */
export function cloudOfInfra(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const first = value.trim().split('/')[0] ?? ''
  if (first === '' || first === '*') return undefined
  return canonicalCloud(first)
}

/** The cloud or provider behind a storage `store:` value (`s3` → `aws`), if it has one. */
export function cloudOfStore(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return STORE_PROVIDERS[value.trim().toLowerCase()]
}

/** SkyPilot pip extras for the given clouds and providers: sorted, deduplicated, unknown names dropped. */
export function extrasForClouds(clouds: string[]): string[] {
  const extras = new Set<string>()
  for (const cloud of clouds) {
    const name = canonicalCloud(cloud)
    const extra = name === undefined ? undefined : EXTRAS[name]
    if (extra !== undefined) extras.add(extra)
  }
  return [...extras].sort()
}
