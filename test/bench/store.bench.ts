/**
 * `npm run bench:store`: the embedded stores' speed on this machine.
 *   1. appends of 100-event batches (events/s)
 *   2. concurrent single-event appends, each with its expected revision (events/s; group commit at work)
 *   3. replay of 1,000,000 events through a per-user-totals projection on the SQLite read store (events/s, peak RSS)
 * Durability is the shipped default (synchronous=FULL) unless TOLLGATE_SQLITE_SYNC=normal.
 * BENCH_EVENTS overrides the replay size (e.g. BENCH_EVENTS=100000 for a quick run).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import * as v8 from 'v8';
import * as vm from 'vm';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { NewEvent } from '../../libs/event-store/port';
import { SqliteReadStore } from '../../libs/read-store/sqlite/sqlite-read-store';
import { ProjectionRunner } from '../../libs/projections';
import { userTotalsProjection } from '../contracts/user-totals.projection';

const sync = (process.env.TOLLGATE_SQLITE_SYNC === 'normal' ? 'normal' : 'full') as 'full' | 'normal';
const REPLAY_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const USERS = 10_000;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

function usage(user: number, tokens: number): NewEvent {
  return {
    id: randomUUID(),
    type: 'UsageRecorded',
    data: { user_id: `user-${user}`, tenant_id: 'shop-1', provider: 'openai', model: 'gpt-4o-mini', input_tokens: tokens, output_tokens: tokens >> 1, cost_exact: '0.000123', tokens },
    metadata: { occurredAt: '2025-03-10T12:00:00.000Z', correlationId: 'bench' },
  };
}

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function rate(n: number, ms: number): string {
  return `${Math.round((n / ms) * 1000).toLocaleString('en-US')} events/s`;
}

async function batched(dir: string): Promise<number> {
  const store = new SqliteEventStore({ file: path.join(dir, 'batched.db'), sync });
  const batches = 1000;
  const writers = 8;
  // Events are made before the clock starts: the figure is the store's, not the generator's.
  const prepared = Array.from({ length: batches }, (_, b) => Array.from({ length: 100 }, (_, i) => usage(b * 100 + i, 100)));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      const stream = `usage-w${w}`;
      let revision: bigint | 'no_stream' = 'no_stream';
      for (let b = w; b < batches; b += writers) revision = (await store.append(stream, prepared[b], revision)).nextExpectedRevision;
    }),
  );
  const ms = performance.now() - started;
  await store.close();
  const n = batches * 100;
  console.log(`appends of 100-event batches: ${n.toLocaleString('en-US')} events in ${Math.round(ms)} ms (${writers} writers) = ${rate(n, ms)}`);
  return (n / ms) * 1000;
}

async function singles(dir: string): Promise<number> {
  const store = new SqliteEventStore({ file: path.join(dir, 'singles.db'), sync });
  const writers = 200;
  const each = 250;
  const prepared = Array.from({ length: writers }, (_, w) => Array.from({ length: each }, (_, i) => usage(w, i)));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      let revision: bigint | 'no_stream' = 'no_stream';
      for (let i = 0; i < each; i++) revision = (await store.append(`meter-${w}`, [prepared[w][i]], revision)).nextExpectedRevision;
    }),
  );
  const ms = performance.now() - started;
  await store.close();
  const n = writers * each;
  console.log(`concurrent single-event appends: ${n.toLocaleString('en-US')} events in ${Math.round(ms)} ms (${writers} writers) = ${rate(n, ms)}`);
  return (n / ms) * 1000;
}

async function replay(dir: string): Promise<{ rate: number; rss: number }> {
  const events = new SqliteEventStore({ file: path.join(dir, 'replay-events.db'), sync: 'normal' });
  process.stdout.write(`writing ${REPLAY_EVENTS.toLocaleString('en-US')} events for the replay... `);
  const chunk = 5000;
  for (let written = 0; written < REPLAY_EVENTS; written += chunk) {
    const n = Math.min(chunk, REPLAY_EVENTS - written);
    await events.append(`usage-${written}`, Array.from({ length: n }, (_, i) => usage((written + i) % USERS, (written + i) % 1000)), 'no_stream');
  }
  console.log('done');
  const reads = new SqliteReadStore({ file: path.join(dir, 'replay-read-models.db') });
  const projection = userTotalsProjection('user_totals', 'user_totals');
  const runner = new ProjectionRunner(events, reads, [projection]);
  collectGarbage(); // the write phase's garbage is not the replay's memory
  peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const started = performance.now();
  const result = await runner.rebuild('user_totals');
  const ms = performance.now() - started;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const docs = await reads.collection('user_totals').count();
  const sample = await reads.collection('user_totals').get('user-7');
  const expectedTotal = Array.from({ length: Math.ceil(REPLAY_EVENTS / USERS) }, (_, k) => 7 + k * USERS).filter((i) => i < REPLAY_EVENTS).reduce((s, i) => s + (i % 1000), 0);
  if (result.events !== REPLAY_EVENTS || docs !== Math.min(USERS, REPLAY_EVENTS) || sample?.total !== expectedTotal) {
    throw new Error(`replay result is wrong: ${result.events} events, ${docs} users, user-7 total ${String(sample?.total)} (expected ${expectedTotal})`);
  }
  console.log(
    `replay through a per-user-totals projection: ${result.events.toLocaleString('en-US')} events in ${Math.round(ms)} ms = ${rate(result.events, ms)}; ` +
      `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB (${(rssBefore / 2 ** 20).toFixed(0)} MB before the replay)`,
  );
  await reads.close();
  await events.close();
  return { rate: (result.events / ms) * 1000, rss: peakRss };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'tollgate-bench-'));
  console.log(`Tollgate store benchmark: SQLite synchronous=${sync.toUpperCase()}, ${os.cpus().length} CPUs, Node ${process.version}, data in ${dir}`);
  try {
    const b = await batched(dir);
    const s = await singles(dir);
    const r = await replay(dir);
    const checks = [
      ['batched appends >= 50,000 events/s', b >= 50_000],
      ['concurrent single appends >= 10,000 events/s', s >= 10_000],
      ['replay >= 50,000 events/s', r.rate >= 50_000],
      ['peak RSS < 512 MB', r.rss < 512 * 2 ** 20],
    ] as const;
    for (const [what, ok] of checks) console.log(`${ok ? 'PASS' : 'MISS'}  ${what}`);
    process.exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    clearInterval(sampler);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
