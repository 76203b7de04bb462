// Node 24 can hang for good in process.exit(): the exit handler joins V8's worker threads while a
// background Maglev or Sparkplug compile job waits for a garbage collection only the (now exiting)
// main thread could run (nodejs/node#54918, #64274; seen here once in a 64-task fan-out benchmark:
// a `sky launch` of the double that never ended). The double exits with process.exit() everywhere,
// so its processes run without those two background compilers. The action itself never calls
// process.exit(): it ends by letting its event loop drain, where V8 is torn down first.
import v8 from 'node:v8'

export const NO_BACKGROUND_COMPILE = ['--no-maglev', '--no-concurrent-sparkplug']
for (const flag of NO_BACKGROUND_COMPILE) v8.setFlagsFromString(flag)
