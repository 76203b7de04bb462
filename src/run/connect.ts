import * as core from '@actions/core'
import { prepareAccess, probeServer, type ServerInfo } from '../access.js'
import type { RunnerContext } from '../context.js'
import type { Inputs } from '../inputs.js'
import { ensureSky, type SkyInstall } from '../install/install.js'
import { resolveVersion } from '../plan.js'
import { Sky } from '../sky/client.js'
import { saveJson, State } from '../state.js'
import { checkTokenExpiry } from '../token.js'
import { extrasForClouds } from '../task/clouds.js'

export interface Connection {
  sky: Sky
  install: SkyInstall
  server?: ServerInfo
}

/**
 * For the modes that run no task (collect, down): credentials in place, the server asked who it
 * is, `sky` of the matching version ready. Extras: as given; none with a server; else the clouds
 * whose credentials are on the runner.
 */
export async function connect(inputs: Inputs, ctx: RunnerContext): Promise<Connection> {
  checkTokenExpiry(inputs.apiServer)
  const access = prepareAccess(inputs, ctx.temp)
  saveJson(State.credentialFiles, access.files)
  const server = inputs.apiServer ? await probeServer(inputs.apiServer) : undefined
  const { version, from } = resolveVersion(inputs, server?.version)
  const extras = inputs.skypilotExtras ?? (inputs.apiServer ? [] : extrasForClouds(access.cloudsFromCredentials))
  const env = { ...process.env, ...access.env }
  const install = await ensureSky({ version, from, extras, toolCache: ctx.toolCache, os: ctx.os, arch: ctx.arch }, env)
  core.saveState(State.skyPath, install.sky)
  if (install.cacheToSave) saveJson(State.cacheSave, install.cacheToSave)
  return { sky: new Sky(install.sky, env), install, server }
}
