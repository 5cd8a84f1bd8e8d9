/**
 * Named crash points (`npm run drill:crashpoints`; CRASHPOINT_RUNS=n runs at each point, default 20;
 * CRASHPOINTS=a,b to pick points; CRASHPOINT_REBUILD_INSTANCES=1 runs mid-rebuild without the second instance).
 * A victim instance is started with `TOLLGATE_TEST_FAULTS=<point>` and a random `TOLLGATE_TEST_FAULT_SKIP`, so
 * libs/faults/crash-point.ts SIGKILLs it at that point on a random hit, while clients report usage (ids, retries on
 * another instance) and, for some points, a rebuild or a period close runs on the victim. After the runs, the crash
 * drill's pass rule: the store opens, no acknowledged usage lost, nothing twice, summaries equal the log, read models
 * equal a rebuild; period close: one PeriodReset per subscription and period.
 *
 * Points (where the edits put them):
 * - after-append-before-ack                  libs/event-store/sqlite (a group commit is durable, no caller told yet)
 * - after-read-model-write-before-checkpoint libs/read-store/sqlite applyBatch (writes done, checkpoint not written)
 * - mid-projection-batch                     libs/projections runner (after one event of a batch is applied)
 * - mid-rebuild                              libs/projections runner rebuild (after the reset, after a replayed batch)
 * - mid-period-close                         the subscriptions period-close job (after one subscription is closed)
 */
import * as path from 'path';
import { Cluster, Instance, sleep } from '../support/cluster';
import { FaultUpstream } from './support/fault-upstream';
import { compareWithRebuild } from './support/rebuild-check';
import { eventsOfTypes, integrityCheck } from './support/stores';
import { checkUsage, compareSummaries, reportEvent, reportWithRetry, setupTenant, subscribeUsers, waitCaughtUp } from './support/workload';

export const CRASH_POINTS = ['after-append-before-ack', 'after-read-model-write-before-checkpoint', 'mid-projection-batch', 'mid-rebuild', 'mid-period-close'] as const;
export type CrashPointName = (typeof CRASH_POINTS)[number];

/** How many hits of each point may pass before the kill (a random number up to this). */
const MAX_SKIP: Record<CrashPointName, number> = {
  'after-append-before-ack': 25,
  'after-read-model-write-before-checkpoint': 30,
  'mid-projection-batch': 120,
  'mid-rebuild': 12,
  'mid-period-close': 6,
};

export interface CrashPointResult {
  point: CrashPointName;
  runs: number;
  /** Runs in which the point itself killed the victim (it said so on stderr, then the process died of SIGKILL). */
  crashed: number;
  /** Runs in which the point was not reached in time (the drill then killed the victim itself). */
  notReached: number;
  acked: number;
  lost: number;
  doubled: number;
  summaryMismatches: string[];
  rebuildDiffs: number;
  firstDiff: string | null;
  integrity: string;
  periodResets: { subscriptions: number; expected: number; resets: number; duplicates: number } | null;
}

const MONTH_MS = 31 * 24 * 3600 * 1000;

export interface CrashPointOptions {
  /** Most hits that pass before the kill (a random number up to this; default the point's MAX_SKIP). */
  maxSkip?: number;
  /** How long a run waits for the point to kill the victim (default 6 s, 8 s for a period close). */
  waitMs?: number;
  log?: (s: string) => void;
}

export async function runCrashPoint(point: CrashPointName, runs: number, options: CrashPointOptions = {}): Promise<CrashPointResult> {
  const log = options.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const upstream = new FaultUpstream();
  await upstream.start();
  const periodClose = point === 'mid-period-close';
  const clockFile = periodClose ? path.join(require('os').tmpdir(), `tollgate-clock-${process.pid}-${Date.now()}`) : undefined;
  const env = { TOLLGATE_UPSTREAM_OPENAI: upstream.url, ...(periodClose ? { TOLLGATE_PERIOD_CLOSE_CRON: '* * * * * *' } : {}) };
  // Period close runs on the victim alone (a second instance would close the periods first). A rebuild runs on the
  // victim while a second instance projects (CRASHPOINT_REBUILD_INSTANCES=1: the victim alone): checkpoint
  // continuity keeps the other instance's batches off the half-rebuilt read model (issue 9).
  const alone = periodClose || (point === 'mid-rebuild' && process.env.CRASHPOINT_REBUILD_INSTANCES === '1');
  const cluster = await Cluster.start({ instances: alone ? 1 : 2, env, clockFile });
  try {
    return await drive(point, runs, { ...options, log }, cluster, upstream, env, clockFile);
  } catch (err) {
    await cluster.killAll();
    await cluster.stop();
    await upstream.stop();
    throw err;
  }
}

async function drive(
  point: CrashPointName,
  runs: number,
  options: CrashPointOptions & { log: (s: string) => void },
  cluster: Cluster,
  upstream: FaultUpstream,
  env: Record<string, string>,
  clockFile: string | undefined,
): Promise<CrashPointResult> {
  const { log } = options;
  const periodClose = point === 'mid-period-close';
  const victim = cluster.instances[cluster.size - 1];
  // The point announces itself on stderr just before its SIGKILL (libs/faults/crash-point.ts): a SIGKILL without that
  // line is the drill's own, not the point's.
  const marker = `crash point ${point} `;
  let sawPoint = false;
  cluster.onOutput = (instance, text) => {
    if (instance === victim && text.includes(marker)) sawPoint = true;
  };
  const users = Array.from({ length: periodClose ? 12 : 4 }, (_, i) => `cp-user-${i}`);
  const tenant = await setupTenant(cluster.instances[0], cluster.adminKey, { tenantId: 'cp-tenant', planId: 'cp-plan', limits: {} });
  await subscribeUsers(cluster.instances[0], tenant.tenantKey, users, periodClose ? 'basic' : 'cp-plan');
  const acked = new Set<string>();
  let currentOffset = 0;
  let running = true;
  const clients = Array.from({ length: 3 }, async () => {
    while (running) {
      const user = users[(Math.random() * users.length) | 0];
      const batch = Array.from({ length: 8 }, () => reportEvent(user, new Date(Date.now() + currentOffset)));
      const r = await reportWithRetry(cluster, tenant.tenantKey, batch).catch(() => ({ acked: [] as string[] }));
      r.acked.forEach((id) => acked.add(id));
      await sleep(20);
    }
  });
  let crashed = 0;
  let notReached = 0;
  /** Months the clock moved: a victim killed during its start (closing what the last crash left) moves it not. */
  let months = 0;
  for (let run = 1; run <= runs; run++) {
    const skip = Math.floor(Math.random() * ((options.maxSkip ?? MAX_SKIP[point]) + 1));
    await victim.kill9();
    sawPoint = false;
    let exitedDuringStart = false;
    try {
      await victim.start({ TOLLGATE_TEST_FAULTS: point, TOLLGATE_TEST_FAULT_SKIP: String(skip) });
    } catch (err) {
      if (!/exited during start/.test((err as Error).message)) throw err;
      exitedDuringStart = true;
    }
    if (!exitedDuringStart) {
      if (point === 'mid-rebuild') void victim.request('POST', '/api/admin/projections/all/rebuild', { key: cluster.adminKey, timeoutMs: 60_000 }).catch(() => undefined);
      if (periodClose) {
        currentOffset += MONTH_MS;
        months++;
        cluster.setClockOffset(currentOffset);
      }
      await Promise.race([victim.waitExit(), sleep(options.waitMs ?? (periodClose ? 8_000 : 6_000))]);
    }
    if (!victim.running) await victim.waitClosed();
    const last = victim.exits[victim.exits.length - 1];
    const killedByPoint = !victim.running && last?.signal === 'SIGKILL' && sawPoint;
    if (killedByPoint) crashed++;
    else {
      notReached++;
      await victim.kill9();
    }
    log(`  ${point} run ${run}/${runs}: skip ${skip}, ${!killedByPoint ? 'not reached' : exitedDuringStart ? 'killed during start' : 'killed'}; acked ${acked.size}`);
  }
  // A clean start: the store opens, the projections resume.
  await victim.start();
  if (periodClose) {
    // Let the job close what the crashes left: every subscription once per month the clock moved.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && eventsOfTypes(cluster.dataDir, ['PeriodReset']).filter((e) => e.data.tenant_id === tenant.tenantId && e.data.reason === 'period_end').length < users.length * months) await sleep(250);
    await sleep(2_000); // more runs of the job: still one close per period
  }
  running = false;
  await Promise.allSettled(clients);
  await waitCaughtUp(cluster, 60_000);
  const check = checkUsage(cluster.dataDir, tenant.tenantId, acked, 'report');
  const summaries = periodClose ? { mismatches: [], otherPeriods: 0 } : await compareSummaries(cluster, cluster.dataDir, tenant.tenantKey, tenant.tenantId, users);
  const summaryMismatches = summaries.mismatches;
  let periodResets: CrashPointResult['periodResets'] = null;
  if (periodClose) {
    const resets = eventsOfTypes(cluster.dataDir, ['PeriodReset']).filter((e) => e.data.tenant_id === tenant.tenantId && e.data.reason === 'period_end');
    const keys = resets.map((e) => `${e.data.user_id}|${e.data.period_start}`);
    periodResets = { subscriptions: users.length, expected: users.length * months, resets: resets.length, duplicates: keys.length - new Set(keys).size };
  }
  await cluster.stop();
  const rebuild = await compareWithRebuild(cluster.dataDir, { env, clockFile });
  const integrity = `${integrityCheck(path.join(cluster.dataDir, 'events.db'))}/${integrityCheck(path.join(cluster.dataDir, 'read-models.db'))}`;
  await upstream.stop();
  const result: CrashPointResult = {
    point,
    runs,
    crashed,
    notReached,
    acked: acked.size,
    lost: check.lost.length,
    doubled: check.doubled.length,
    summaryMismatches,
    rebuildDiffs: rebuild.diffs.length,
    firstDiff: rebuild.diffs.length ? JSON.stringify(rebuild.diffs[0]).slice(0, 600) : null,
    integrity,
    periodResets,
  };
  log(
    `${point}: ${runs} runs, ${crashed} killed at the point, ${notReached} not reached; acked ${acked.size}, lost ${result.lost}, doubled ${result.doubled}, ` +
      `summary mismatches ${summaryMismatches.length}, read-model diffs ${result.rebuildDiffs}, integrity ${integrity}` +
      (periodResets ? `, period closes ${periodResets.resets} of ${periodResets.expected} expected (duplicates ${periodResets.duplicates}) for ${periodResets.subscriptions} subscriptions` : ''),
  );
  if (passed(result)) cluster.remove();
  else log(`  data kept in ${cluster.dataDir}`);
  return result;
}

export function passed(r: CrashPointResult): boolean {
  return r.lost === 0 && r.doubled === 0 && r.summaryMismatches.length === 0 && r.rebuildDiffs === 0 && r.integrity === 'ok/ok' && (!r.periodResets || (r.periodResets.duplicates === 0 && r.periodResets.resets === r.periodResets.expected));
}

if (require.main === module) {
  const runs = Number(process.env.CRASHPOINT_RUNS ?? 20);
  const points = (process.env.CRASHPOINTS ? process.env.CRASHPOINTS.split(',') : [...CRASH_POINTS]) as CrashPointName[];
  (async () => {
    const results: CrashPointResult[] = [];
    for (const p of points) results.push(await runCrashPoint(p, runs));
    process.stdout.write('\n' + results.map((r) => `${passed(r) ? 'PASS' : 'FAIL'} ${r.point}: killed ${r.crashed}/${r.runs}, lost ${r.lost}, doubled ${r.doubled}, diffs ${r.rebuildDiffs}${r.firstDiff ? ` first: ${r.firstDiff}` : ''}`).join('\n') + '\n');
    process.exit(results.every(passed) ? 0 : 1);
  })().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}

export type { Instance };
