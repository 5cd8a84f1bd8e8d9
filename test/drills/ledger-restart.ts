/**
 * Restart time with a long usage log: how long a SIGKILLed instance takes to answer /health again (the usage ledger
 * is ready before the app serves), on a data directory holding about EVENTS UsageRecorded events.
 *
 *   node -r ts-node/register/transpile-only test/drills/ledger-restart.ts fill <dataDir>     # reports EVENTS events
 *   node -r ts-node/register/transpile-only test/drills/ledger-restart.ts restart <dataDir>  # RESTARTS kill -9 + start
 *   node -r ts-node/register/transpile-only test/drills/ledger-restart.ts ledger <dataDir>   # the ledger's boot alone
 *
 * `ledger` boots the UsageLedger alone on the directory's stores (no app), RESTARTS times folding the whole log and
 * RESTARTS times seeded from usage_summaries, and prints each boot's time (the part of a restart the ledger takes).
 * `fill` reports the events through POST /api/usage/events (batches of 100, USERS users of one tenant) and waits until
 * the projections have caught up. `restart` copies nothing: run it on a copy of a filled directory per code version.
 * Environment: EVENTS (300000), USERS (2000), RESTARTS (5).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Cluster, CLUSTER_ADMIN_KEY } from '../support/cluster';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../../libs/read-store/sqlite/sqlite-read-store';
import { UsageLedger } from '../../src/metering/application/usage-ledger';
import type { AppConfig } from '../../src/shell';

const EVENTS = Number(process.env.EVENTS ?? 300_000);
const USERS = Number(process.env.USERS ?? 2000);
const RESTARTS = Number(process.env.RESTARTS ?? 5);
const TENANT = 'restart-shop';

async function fill(dataDir: string): Promise<void> {
  const cluster = await Cluster.start({ instances: 1, dataDir, logLevel: 'warn' });
  const inst = cluster.instances[0];
  try {
    const ok = <R extends { status: number; text: string }>(r: R, what: string): R => {
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
      return r;
    };
    ok(await inst.request('POST', '/api/admin/tenants', { key: CLUSTER_ADMIN_KEY, body: { tenant_id: TENANT, name: TENANT, default_plan_id: 'enterprise' } }), 'tenant');
    const key: string = ok(await inst.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: CLUSTER_ADMIN_KEY, body: { role: 'tenant' } }), 'key').body.key;
    const batches = Math.ceil(EVENTS / 100);
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      for (;;) {
        const b = next++;
        if (b >= batches) return;
        const at = new Date(Date.now() - 60_000).toISOString();
        const events = Array.from({ length: 100 }, (_, i) => {
          const n = b * 100 + i;
          return { id: `ev-${n}`, user_id: `user-${n % USERS}`, provider: 'openai', model: n % 3 ? 'gpt-4o' : 'gpt-4o-mini', input_tokens: 100 + (n % 50), output_tokens: 20, occurred_at: at, latency_ms: 30 };
        });
        const r = ok(await inst.request('POST', '/api/usage/events', { key, body: { events } }), `batch ${b}`);
        if (r.body.accepted + r.body.duplicate !== 100) throw new Error(`batch ${b}: ${r.text.slice(0, 300)}`);
        if (b % 500 === 0) console.log(`batch ${b}/${batches} after ${Math.round((Date.now() - started) / 1000)} s`);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    console.log(`reported ${batches * 100} events in ${Math.round((Date.now() - started) / 1000)} s; waiting for the projections`);
    for (;;) {
      const r = await inst.request('GET', '/api/admin/projections', { key: CLUSTER_ADMIN_KEY });
      const lag = Math.max(...r.body.projections.map((p: { lag: number }) => p.lag));
      if (lag === 0) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    console.log(`projections caught up after ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await cluster.stop();
  }
}

async function restart(dataDir: string): Promise<void> {
  const logDir = path.join(dataDir, 'logs');
  const cluster = await Cluster.start({ instances: 1, dataDir, logDir, logLevel: 'info' });
  const inst = cluster.instances[0];
  const ms: number[] = [];
  try {
    for (let i = 0; i < RESTARTS; i++) {
      const t0 = Date.now();
      await inst.restart();
      ms.push(Date.now() - t0);
    }
  } finally {
    await cluster.stop();
  }
  const sorted = [...ms].sort((a, b) => a - b);
  console.log(`restarts (kill -9, then /health 200): ${ms.join(', ')} ms; p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms`);
  const logFile = path.join(logDir, 'instance-0.log');
  const ledgerLines = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('"usage-ledger"')) : [];
  for (const l of ledgerLines.slice(-2)) console.log(l);
}

async function ledgerAlone(dataDir: string): Promise<void> {
  process.env.LOG_LEVEL = 'silent';
  const events = new SqliteEventStore({ file: path.join(dataDir, 'events.db'), sync: 'normal', pollIntervalMs: 20 });
  const reads = new SqliteReadStore({ file: path.join(dataDir, 'read-models.db') });
  try {
    for (const seeded of [false, true]) {
      const runs: string[] = [];
      for (let i = 0; i < RESTARTS; i++) {
        const ledger = new UsageLedger(events, { role: 'server' } as AppConfig, seeded ? reads : undefined);
        await ledger.onApplicationBootstrap();
        const b = ledger.boot!;
        runs.push(`${b.ms} ms`);
        await ledger.onModuleDestroy();
        if (i === RESTARTS - 1) console.log(`${seeded ? 'seeded' : 'folded'}: ${runs.join(', ')} (from ${b.from}, checkpoint ${b.checkpoint}, ${b.seededPeriods} periods read, ${b.followedEvents} events followed)`);
      }
    }
  } finally {
    await events.close();
    await reads.close();
  }
}

const [mode, dir] = process.argv.slice(2);
if (!dir || (mode !== 'fill' && mode !== 'restart' && mode !== 'ledger')) {
  console.error('usage: ledger-restart.ts fill|restart|ledger <dataDir>');
  process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
(mode === 'fill' ? fill(dir) : mode === 'restart' ? restart(dir) : ledgerAlone(dir)).then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
