import { describe, expect, it } from 'vitest'
import { runnerOsProblem } from '../../src/runner-os.js'

describe('runnerOsProblem', () => {
  it.each(['Windows', 'windows', 'WINDOWS', ' Windows ', 'win32'])('refuses %j and says what to use instead', (os) => {
    const problem = runnerOsProblem(os)
    expect(problem).toMatch(/cannot run on a Windows runner/)
    expect(problem).toContain("SkyPilot's client does not run natively on Windows")
    expect(problem).toContain('runs-on: ubuntu-latest')
    expect(problem).toMatch(/WSL/)
    // One line: it becomes the step's error annotation.
    expect(problem).not.toContain('\n')
  })

  it.each(['Linux', 'linux', 'macOS', 'darwin'])('lets %j through', (os) => {
    expect(runnerOsProblem(os)).toBeUndefined()
  })

  it('lets an unknown or missing OS through (the installer fails clearly there if it must)', () => {
    expect(runnerOsProblem(undefined)).toBeUndefined()
    expect(runnerOsProblem('')).toBeUndefined()
    expect(runnerOsProblem('freebsd')).toBeUndefined()
  })
})
