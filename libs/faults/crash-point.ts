/**
 * Test-only named crash points for the crash drills (test/drills/crash-points.ts). A crash point does nothing unless
 * its name was armed from the configuration (`TOLLGATE_TEST_FAULTS=name,name`, see AppConfig.faultPoints); then, when
 * its turn comes, it kills the process with SIGKILL on the spot: no shutdown hook, no flush, like a power cut of the
 * process.
 *
 * When its turn comes (read once, from the environment, only once a point is armed):
 * - `TOLLGATE_TEST_FAULT_SKIP=n`: the first n hits of an armed point pass (default 0: the first hit kills);
 * - `TOLLGATE_TEST_FAULT_PROBABILITY=p`: after the skipped hits, each hit kills with probability p (default 1).
 */
import * as fs from 'fs';

let armed: ReadonlySet<string> = new Set();
let skip = 0;
let probability = 1;
const hits = new Map<string, number>();

/** Arms the named points (called once at start with the configuration's fault points). */
export function armCrashPoints(names: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  armed = new Set(names);
  skip = Math.max(0, Number(env.TOLLGATE_TEST_FAULT_SKIP ?? 0) || 0);
  const p = Number(env.TOLLGATE_TEST_FAULT_PROBABILITY ?? 1);
  probability = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 1;
  hits.clear();
}

/** True when at least one crash point is armed. */
export function crashPointsArmed(): boolean {
  return armed.size > 0;
}

/** Kills the process (SIGKILL) if `name` is armed and its turn has come; otherwise returns at once. */
export function crashPoint(name: string): void {
  if (armed.size === 0 || !armed.has(name)) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n <= skip) return;
  if (probability < 1 && Math.random() >= probability) return;
  try {
    // Straight to file descriptor 2: from a worker thread, process.stderr hands the line to the main thread, which a
    // SIGKILL a moment later never lets write it (the drills read this line to know the point was reached).
    fs.writeSync(2, `crash point ${name} (hit ${n}): SIGKILL\n`);
  } catch {
    /* the write is best effort */
  }
  process.kill(process.pid, 'SIGKILL');
}
