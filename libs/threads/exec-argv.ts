/**
 * V8's heap-size and GC flags (and `--perf-basic-prof`, for profiling with Linux perf; Node's `--v8-pool-size`) apply
 * to the whole process (workers included) but a Worker refuses them in its execArgv ("invalid execArgv flags"), which
 * it otherwise inherits from this thread's: `npm start` passes `--max-semi-space-size=64`.
 */
const PROCESS_WIDE = /^--(no-)?(max-semi-space-size|min-semi-space-size|max-old-space-size|max-young-generation-size|stack-size|perf-basic-prof|v8-pool-size|single-threaded-gc|parallel-scavenge|trace-gc|semi-space-growth-factor|heap-growing-percent)(=|$)/;

/** This thread's execArgv without the flags a Worker refuses (they reach the worker anyway: V8 flags are per process). */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  return argv.filter((a) => !PROCESS_WIDE.test(a));
}
