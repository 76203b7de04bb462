/**
 * Which runner operating systems the action can serve, decided before anything else happens.
 *
 * Linux is what the action is built and tested on. macOS has what it relies on: `python3` and a
 * virtualenv with `bin/` (not Windows' `Scripts/`), POSIX signals for cancellation, file modes for
 * the kubeconfig. Windows has none of that reliably, and SkyPilot's own client does not run on it
 * natively (SkyPilot's installation guide sends Windows users to WSL), so a Windows runner is
 * refused at once instead of failing halfway through an install or, worse, after a launch.
 */

/**
 * A problem to fail the step with, or undefined when the runner's OS is fine. Takes RUNNER_OS
 * (`Linux`, `macOS`, `Windows`) or, for local runs without it, Node's `os.platform()` (`win32`).
 */
export function runnerOsProblem(os: string | undefined): string | undefined {
  const name = (os ?? '').trim().toLowerCase()
  if (name !== 'windows' && name !== 'win32') return undefined
  return (
    "SkyPilot Launch cannot run on a Windows runner: SkyPilot's client does not run natively on Windows. " +
    'Use `runs-on: ubuntu-latest` for this job, or a self-hosted runner installed inside WSL (Windows Subsystem for Linux), which runs as a Linux runner.'
  )
}
