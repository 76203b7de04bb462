import { runMain } from './run/main.js'

await runMain()
