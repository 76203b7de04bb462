#!/usr/bin/env node
// Builds what the runner runs: the generated task validators, then one esbuild bundle per entry
// (dist/main for the step, dist/post for the post step), ES modules with the paths that need heavy
// modules split into chunks loaded only there. Deterministic, so CI can check that the committed
// dist/ is exactly what this makes.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

const gen = spawnSync(process.execPath, [path.join(root, 'scripts', 'gen-task-schema.mjs')], { cwd: root, stdio: 'inherit' })
if (gen.status !== 0) {
  console.error('build: task schema generation failed')
  process.exit(gen.status ?? 1)
}

/**
 * @actions/core imports its OIDC client (and through it an HTTP client and undici) at load time,
 * for getIDToken, which this action never calls: that import alone costs more than the rest of the
 * action's start-up. Here it is a stub that loads the real client on first use, in a chunk of its own.
 */
const lazyOidc = {
  name: 'lazy-oidc',
  setup(build) {
    // Real paths: node_modules may be a link (esbuild resolves through it).
    const real = fs.realpathSync(path.join(root, 'node_modules', '@actions', 'core', 'lib', 'oidc-utils.js'))
    build.onResolve({ filter: /^\.\/oidc-utils\.js$/ }, (args) => {
      const target = path.resolve(args.resolveDir, args.path)
      if (!fs.existsSync(target) || fs.realpathSync(target) !== real) return undefined
      return { path: 'lazy-oidc', namespace: 'lazy-oidc' }
    })
    build.onLoad({ filter: /.*/, namespace: 'lazy-oidc' }, () => ({
      contents: `export class OidcClient {\n  static async getIDToken(audience) {\n    const { OidcClient: real } = await import(${JSON.stringify(real)})\n    return real.getIDToken(audience)\n  }\n}\n`,
      resolveDir: root
    }))
  }
}

for (const entry of ['main', 'post']) {
  const outdir = path.join(root, 'dist', entry)
  fs.rmSync(outdir, { recursive: true, force: true })
  const result = await esbuild.build({
    entryPoints: { index: path.join(root, 'src', `${entry}.ts`) },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [lazyOidc],
    // CommonJS dependencies (the cache client's) call require(): give the ES module one.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
  })
  fs.writeFileSync(path.join(outdir, 'licenses.txt'), licenses(result.metafile))
  // The bundles are ES modules whatever the package.json above them says.
  fs.writeFileSync(path.join(outdir, 'package.json'), '{"type":"module"}\n')
}

/** The licenses of every package bundled into an entry (its chunks included), for redistribution. */
function licenses(metafile) {
  const packages = new Map()
  for (const input of Object.keys(metafile.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (!m || packages.has(m[1])) continue
    const dir = path.join(root, 'node_modules', m[1])
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
    packages.set(m[1], `${pkg.name}\n${pkg.license ?? 'UNKNOWN'}\n${file ? fs.readFileSync(path.join(dir, file), 'utf8').trim() : ''}`)
  }
  return [...packages.keys()].sort().map((name) => packages.get(name)).join('\n\n') + '\n'
}
