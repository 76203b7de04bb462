/**
 * A mistake the user can fix. Its message is shown as it is (no stack trace) and says what to do.
 * `problems` holds every problem found at once, so one failed run lists them all.
 */
export class UserError extends Error {
  readonly problems: string[]

  constructor(problems: string | string[]) {
    const list = Array.isArray(problems) ? problems : [problems]
    super(list.length === 1 ? list[0] : `${list.length} problems:\n${list.map((p) => `- ${p}`).join('\n')}`)
    this.name = 'UserError'
    this.problems = list
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
