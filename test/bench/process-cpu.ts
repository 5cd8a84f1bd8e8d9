/**
 * What the benchmarks read of a running process: CPU time from Linux /proc (the process, one thread, every thread
 * with its name), and when a child server answers /health.
 */
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';

export type ThreadCpu = Map<number, { name: string; ms: number }>;

/** CPU time (ms) of the whole process, or of one thread with `tid` (the main thread's tid is the pid). */
export function cpuMs(pid: number, tid?: number): number {
  const f = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime in clock ticks (100 Hz)
}

/** CPU time (ms) of each thread of the process, by thread id, with the thread's name (empty where there is no /proc). */
export function threadCpu(pid: number): ThreadCpu {
  const out: ThreadCpu = new Map();
  let tids: number[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      out.set(tid, { name: fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim(), ms: cpuMs(pid, tid) });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/** Each thread's CPU (ms) per item between two snapshots, the busiest first; the main thread is named HTTP. */
export function perThread(before: ThreadCpu, after: ThreadCpu, pid: number, items: number): [string, number][] {
  return [...after]
    .map(([tid, a]): [string, number] => [tid === pid ? 'HTTP' : `${a.name}#${tid}`, (a.ms - (before.get(tid)?.ms ?? 0)) / Math.max(1, items)])
    .sort((x, y) => y[1] - x[1]);
}

/** Resolves once `url`/health answers 200; kills the child and throws after `tries` looks `everyMs` apart. */
export async function waitForHealth(url: string, child: ChildProcess, what: string, tries: number, everyMs: number): Promise<void> {
  for (let i = 0; i < tries; i++) {
    try {
      if ((await fetch(url + '/health')).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  child.kill();
  throw new Error(`${what} did not start`);
}
