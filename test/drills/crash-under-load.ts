/**
 * Crash under load (`npm run drill:crash`; CRASH_KILLS=n to change the number of kills, default 24): two Tollgate
 * processes on one data dir take gateway and report traffic from clients that retry (report events carry ids);
 * an instance is SIGKILLed at a random moment and restarted, again and again. Afterwards:
 * - the store opened every time (every restart answered /health) and SQLite's integrity check says ok;
 * - no acknowledged report is lost and no usage id is recorded twice (client acks against the log);
 * - each user's summary counts exactly the calls the log holds (nothing counted twice in the read models);
 * - every read model equals a full rebuild;
 * - gateway calls answered 2xx whose record is missing are counted: the one gap ARCHITECTURE.md states (a call forwarded
 *   but not yet recorded when the process died).
 * `runCrashDrill` is shared with the short version in npm test (crash-under-load.e2e.ts).
 */
import * as path from 'path';
import { Cluster, Instance, sleep } from '../support/cluster';
import { FaultUpstream } from './support/fault-upstream';
import { compareWithRebuild, RebuildComparison } from './support/rebuild-check';
import { ESDB_DUMP, eventsOfTypes, integrityCheck } from './support/stores';
import { FakeProcess, startFakeProcess } from '../fakes/eventstoredb/fake-process';
import { chat, checkUsage, compareSummaries, reportEvent, reportWithRetry, setupTenant, subscribeUsers, waitCaughtUp } from './support/workload';

export interface CrashDrillOptions {
  kills: number;
  instances?: number;
  /** Concurrent clients (default 6). */
  clients?: number;
  /** Random pause before each kill, ms (default 300..1500). */
  minGapMs?: number;
  maxGapMs?: number;
  users?: number;
  /** Extra env (TOLLGATE_TEST_FAULTS...). */
  env?: Record<string, string | undefined>;
  /**
   * The log on EventStoreDB: the protocol fake in its own process (EVENTSTORE_URL points at it; read models stay on
   * SQLite). `restarts`: the fake restarts this many times during the load (connections drop, subscriptions end).
   */
  eventStoreFake?: { restarts: number };
  log?: (line: string) => void;
}

export interface CrashDrillResult {
  kills: number;
  restarts: number;
  reportBatches: number;
  reportAcked: number;
  reportRetries: number;
  gatewayCalls: number;
  gatewayAnswered2xx: number;
  gatewayErrors: number;
  recordedReports: number;
  recordedGateway: number;
  lost: number;
  doubled: number;
  /** Gateway calls answered 2xx with no record (the stated gap), estimated by count when no request id is exposed. */
  gatewayGap: number;
  summaryMismatches: string[];
  rebuild: RebuildComparison;
  integrity: { events: string; readModels: string };
  restartMs: number[];
}

export async function runCrashDrill(o: CrashDrillOptions): Promise<CrashDrillResult> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const upstream = new FaultUpstream();
  await upstream.start();
  const fake: FakeProcess | null = o.eventStoreFake ? await startFakeProcess() : null;
  const env = { TOLLGATE_UPSTREAM_OPENAI: upstream.url, ...(fake ? { EVENTSTORE_URL: fake.url } : {}), ...o.env };
  const cluster = await Cluster.start({ instances: o.instances ?? 2, env });
  const users = Array.from({ length: o.users ?? 4 }, (_, i) => `crash-user-${i}`);
  const tenant = await setupTenant(cluster.instances[0], cluster.adminKey, { tenantId: 'crash-tenant', planId: 'crash-unlimited', limits: {} });
  await subscribeUsers(cluster.instances[0], tenant.tenantKey, users, 'crash-unlimited');
  const acked = new Set<string>();
  const sent = new Set<string>();
  const gatewayIds = new Set<string>();
  const counters = { reportBatches: 0, reportRetries: 0, gatewayCalls: 0, gateway2xx: 0, gatewayErrors: 0 };
  let running = true;

  const client = async (n: number) => {
    while (running) {
      const user = users[(Math.random() * users.length) | 0];
      if (n % 2 === 0) {
        const batch = Array.from({ length: 10 }, () => reportEvent(user));
        batch.forEach((e) => sent.add(e.id));
        const r = await reportWithRetry(cluster, tenant.tenantKey, batch, { onAttempt: (ok) => (ok ? undefined : counters.reportRetries++) });
        r.acked.forEach((id) => acked.add(id));
        counters.reportBatches++;
      } else {
        let inst: Instance;
        try {
          inst = cluster.pick();
        } catch {
          await sleep(50);
          continue;
        }
        counters.gatewayCalls++;
        try {
          const r = await chat(inst, tenant.tenantKey, user, { stream: Math.random() < 0.3, timeoutMs: 10_000 });
          if (r.status >= 200 && r.status < 300) {
            counters.gateway2xx++;
            const id = String(r.headers['x-request-id'] ?? r.headers['x-tollgate-request-id'] ?? '');
            if (id) gatewayIds.add(id);
          } else counters.gatewayErrors++;
        } catch {
          counters.gatewayErrors++; // the instance died under the call: the client sees a connection error
          await sleep(20);
        }
      }
    }
  };

  const clients = Array.from({ length: o.clients ?? 6 }, (_, i) => client(i));
  const restartMs: number[] = [];
  let kills = 0;
  try {
    for (let k = 0; k < o.kills; k++) {
      const gap = (o.minGapMs ?? 300) + Math.random() * ((o.maxGapMs ?? 1500) - (o.minGapMs ?? 300));
      await sleep(gap);
      if (fake && k < o.eventStoreFake!.restarts) {
        await fake.control('/restart?downMs=200');
        log(`EventStoreDB fake restarted (200 ms down) before kill ${k + 1}`);
      }
      const victim = cluster.instances[(Math.random() * cluster.size) | 0];
      await victim.kill9();
      kills++;
      const t0 = Date.now();
      await victim.start(); // throws (and fails the drill) if the store does not open
      restartMs.push(Date.now() - t0);
      log(`kill ${kills}/${o.kills}: instance ${victim.index} SIGKILLed after ${Math.round(gap)} ms, back in ${restartMs[restartMs.length - 1]} ms; acked reports ${acked.size}, gateway 2xx ${counters.gateway2xx}`);
    }
  } finally {
    running = false;
    await Promise.allSettled(clients);
  }
  await waitCaughtUp(cluster, 60_000);
  if (fake) await fake.dump(path.join(cluster.dataDir, ESDB_DUMP));

  const check = checkUsage(cluster.dataDir, tenant.tenantId, acked, 'report');
  const recordedGatewayEvents = eventsOfTypes(cluster.dataDir, ['UsageRecorded']).filter((e) => e.data.tenant_id === tenant.tenantId && e.data.source === 'gateway');
  const recordedGatewayIds = new Set(recordedGatewayEvents.map((e) => e.data.usage_id));
  const gatewayGap = gatewayIds.size ? [...gatewayIds].filter((id) => !recordedGatewayIds.has(id)).length : Math.max(0, counters.gateway2xx - recordedGatewayIds.size);
  const doubledGateway = recordedGatewayEvents.length - recordedGatewayIds.size;

  // Summaries count what the log holds for the period they serve, once.
  const { mismatches: summaryMismatches, otherPeriods } = await compareSummaries(cluster, cluster.dataDir, tenant.tenantKey, tenant.tenantId, users);
  if (otherPeriods) log(`note: ${otherPeriods} usage records fell in another period than the one served`);
  await cluster.stop();
  const rebuild = await compareWithRebuild(cluster.dataDir, { env });
  const integrity = { events: fake ? 'EventStoreDB (fake): no file' : integrityCheck(path.join(cluster.dataDir, 'events.db')), readModels: integrityCheck(path.join(cluster.dataDir, 'read-models.db')) };
  await upstream.stop();
  await fake?.stop();
  const result: CrashDrillResult = {
    kills,
    restarts: cluster.instances.reduce((n, i) => n + i.starts - 1, 0),
    reportBatches: counters.reportBatches,
    reportAcked: acked.size,
    reportRetries: counters.reportRetries,
    gatewayCalls: counters.gatewayCalls,
    gatewayAnswered2xx: counters.gateway2xx,
    gatewayErrors: counters.gatewayErrors,
    recordedReports: check.recorded,
    recordedGateway: recordedGatewayIds.size,
    lost: check.lost.length,
    doubled: check.doubled.length + doubledGateway,
    gatewayGap,
    summaryMismatches,
    rebuild,
    integrity,
    restartMs,
  };
  if (check.unknown > 0) log(`note: ${check.unknown} recorded report ids were sent but never acknowledged (recorded before the crash, the retry then saw a duplicate or the client gave up)`);
  log(
    `crash drill: ${kills} kills, ${result.restarts} restarts (restart p50 ${median(restartMs)} ms, max ${Math.max(...restartMs, 0)} ms); ` +
      `reports: ${result.reportBatches} batches, ${result.reportAcked} ids acknowledged, ${result.reportRetries} retried attempts, ${result.recordedReports} recorded; ` +
      `gateway: ${result.gatewayCalls} calls, ${result.gatewayAnswered2xx} 2xx, ${result.gatewayErrors} errors, ${result.recordedGateway} recorded, gap ${result.gatewayGap}; ` +
      `lost ${result.lost}, doubled ${result.doubled}, summary mismatches ${summaryMismatches.length}, read-model diffs after rebuild ${rebuild.diffs.length}; integrity ${integrity.events}/${integrity.readModels}`,
  );
  void sent;
  cluster.remove();
  return result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[(s.length / 2) | 0] : 0;
}

if (require.main === module) {
  const kills = Number(process.env.CRASH_KILLS ?? 24);
  runCrashDrill({ kills })
    .then((r) => {
      const ok = r.lost === 0 && r.doubled === 0 && r.summaryMismatches.length === 0 && r.rebuild.diffs.length === 0 && r.integrity.events === 'ok' && r.integrity.readModels === 'ok';
      if (r.rebuild.diffs.length) process.stdout.write(`first read-model differences:\n${JSON.stringify(r.rebuild.diffs.slice(0, 5), null, 2)}\n`);
      if (r.summaryMismatches.length) process.stdout.write(`summary mismatches: ${r.summaryMismatches.join('; ')}\n`);
      process.stdout.write(ok ? 'PASS\n' : 'FAIL\n');
      process.exit(ok ? 0 : 1);
    })
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    });
}
