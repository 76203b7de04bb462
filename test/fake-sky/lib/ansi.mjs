// The colour codes the real CLI prints. It prints them even into a pipe on every line that goes
// through its logger or a plain print() (job logs, request logs, exceptions), while click.echo /
// click.secho strip them when stdout is not a terminal. The double prints exactly what the real
// one does in a pipe, so that whatever scans the output meets the same bytes.
// Values: colorama's, and sky/utils/ux_utils.py (BOLD, INDENT_SYMBOL, starting/finishing_message).

export const RESET = '\x1b[0m'
export const BOLD = '\x1b[1m'
export const DIM = '\x1b[2m'
export const RED = '\x1b[31m'
export const GREEN = '\x1b[32m'
export const YELLOW = '\x1b[33m'
export const CYAN = '\x1b[36m'

/** Tree symbols of logger output (dimmed); click output strips them to plain `├── `. */
export const INDENT = `${DIM}├── ${RESET}`
export const INDENT_LAST = `${DIM}└── ${RESET}`

export const yellow = (s) => `${YELLOW}${s}${RESET}`
export const cyan = (s) => `${CYAN}${s}${RESET}`
export const bold = (s) => `${BOLD}${s}${RESET}`

/** ux_utils.starting_message: `⚙︎ ...` after a reset. */
export const starting = (s) => `${RESET}⚙︎ ${s}`

/** ux_utils.finishing_message: always a green check mark, whatever the status it reports. */
export const finishing = (s) => `${RESET}${GREEN}✓ ${s}${RESET}${RESET}`
