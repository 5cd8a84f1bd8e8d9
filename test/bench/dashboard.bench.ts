/**
 * Dashboard benchmark (`npm run bench:dashboard`): p50/p95/p99 of GET /api/subscription/dashboard/{user} at 16
 * connections, for a user with 100,000 calls in the period among 1,000,000 events, and for a user with 100 calls.
 * Runs twice on the same data: with the dashboard cache, and with SUBSCRIPTION_DASHBOARD_NOCACHE=1 (every request
 * reads the read models). The history is appended straight to the event store, then the projections catch up.
 *
 * Options (env): BENCH_EVENTS (default 1000000), BENCH_HEAVY_CALLS (100000), BENCH_LIGHT_CALLS (100),
 * BENCH_REQUESTS per case (4000), BENCH_CONNECTIONS (16), BENCH_DATA_DIR (reuse a built history).
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { Worker } from 'worker_threads';
import { EVENT_STORE, EventStore, NewEvent } from '../../libs/event-store/port';
import { FakeClock } from '../../libs/clock';
import { UsageRecordedData, usageStreamId } from '../../src/metering';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const HEAVY = Number(process.env.BENCH_HEAVY_CALLS ?? 100_000);
const LIGHT = Number(process.env.BENCH_LIGHT_CALLS ?? 100);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const NOW = '2025-03-20T12:00:00.000Z';
const TENANT = 'bench-shop';
const PROVIDERS = ['gemini', 'openai', 'anthropic', 'mistral', 'tavily'];

function log(msg: string) {
  process.stdout.write(`[bench:dashboard] ${msg}\n`);
}

async function buildHistory(t: TestApp): Promise<string> {
  await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: 'Bench', default_plan_id: 'enterprise' } });
  const key = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key as string;
  const subs = t.app.get(SubscriptionsFacade);
  const store = t.app.get<EventStore>(EVENT_STORE);
  const heavy = await subs.getEffective(TENANT, 'heavy', new Date(NOW));
  const light = await subs.getEffective(TENANT, 'light', new Date(NOW));
  const periodStartMs = Date.parse(heavy.period_start);
  const span = Date.parse(NOW) - periodStartMs;
  const others = EVENTS - HEAVY - LIGHT;
  const started = Date.now();
  let written = 0;
  const WAVE = 5000;
  for (let base = 0; base < EVENTS; base += WAVE) {
    const wave: Promise<unknown>[] = [];
    for (let i = base; i < Math.min(EVENTS, base + WAVE); i++) {
      let user: string;
      let sub = heavy;
      let at: number;
      if (i % 10 === 0 && i / 10 < HEAVY) user = 'heavy';
      else if (i % 10 === 1 && (i - 1) / 10 < LIGHT) (user = 'light'), (sub = light);
      else user = `user-${i % 1000}`;
      at = periodStartMs + Math.floor((i / EVENTS) * span);
      if (user.startsWith('user-')) at -= 120 * 86_400_000 * ((i * 7919) % 1000) / 1000; // the others spread over months
      const id = `b${i}`;
      const provider = PROVIDERS[i % PROVIDERS.length];
      const data: UsageRecordedData = {
        usage_id: id, tenant_id: TENANT, user_id: user, provider, model: 'bench-model', operation: 'chat', source: 'report',
        input_tokens: 200 + (i % 300), output_tokens: 50 + (i % 100), cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0,
        cost: `0.000${(i % 900) + 100}`, price_version: 'bench', price_source: 'catalog', latency_ms: 100, status: 200, streamed: false, estimated: false,
        occurred_at: new Date(at).toISOString(), period_start: sub.period_start, period_end: sub.period_end, plan_id: sub.plan_id,
      };
      const e: NewEvent = { id: randomUUID(), type: 'UsageRecorded', data, metadata: { occurredAt: data.occurred_at } };
      wave.push(store.append(usageStreamId(TENANT, id, data.source), [e], 'no_stream'));
    }
    await Promise.all(wave);
    written += wave.length;
    if (written % 100_000 === 0) log(`appended ${written} events (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  log(`appended ${EVENTS} events (${HEAVY} for "heavy", ${LIGHT} for "light", ${others} for 1,000 others) in ${Math.round((Date.now() - started) / 1000)} s`);
  return key;
}

async function waitForProjections(t: TestApp) {
  const started = Date.now();
  const timer = setInterval(async () => {
    const r = await t.request('GET', '/ready', { key: TEST_ADMIN_KEY }).catch(() => null);
    if (r) log(`projections catching up: lag ${r.body?.projection_lag} events (${Math.round((Date.now() - started) / 1000)} s)`);
  }, 15_000);
  try {
    for (;;) {
      try {
        await t.settle();
        break;
      } catch {
        /* settle times out after 30 s: keep waiting */
      }
    }
  } finally {
    clearInterval(timer);
  }
  log(`projections caught up in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * The load generator runs in a worker thread, so its own CPU does not queue behind the server's event loop
 * (the machine has few cores: the figures are the server's latency as a separate client would see it).
 */
const LOAD_WORKER = `
const { parentPort, workerData } = require('worker_threads');
const { Pool } = require(workerData.undiciPath);
(async () => {
  const { url, path, key, connections, requests } = workerData;
  const pool = new Pool(url, { connections, pipelining: 1 });
  const headers = { authorization: 'Bearer ' + key };
  const one = async () => {
    const s = performance.now();
    const res = await pool.request({ method: 'GET', path, headers });
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new Error('dashboard answered ' + res.statusCode + ': ' + body);
    return performance.now() - s;
  };
  const run = async (n) => {
    const times = [];
    let next = 0;
    await Promise.all(Array.from({ length: connections }, async () => { while (next < n) { next++; times.push(await one()); } }));
    return times;
  };
  await run(Math.min(500, requests));
  const started = performance.now();
  const times = await run(requests);
  const secs = (performance.now() - started) / 1000;
  await pool.close();
  parentPort.postMessage({ times, secs });
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

async function measure(t: TestApp, key: string, user: string): Promise<{ p50: number; p95: number; p99: number; max: number; rps: number }> {
  const worker = new Worker(LOAD_WORKER, {
    eval: true,
    workerData: { undiciPath: require.resolve('undici'), url: t.url, path: `/api/subscription/dashboard/${user}`, key, connections: CONNECTIONS, requests: REQUESTS },
  });
  const out = await new Promise<{ times: number[]; secs: number; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  if (out.error) throw new Error(out.error);
  const times = out.times.sort((a, b) => a - b);
  const q = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))] * 100) / 100;
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1), rps: Math.round(times.length / out.secs) };
}

async function main() {
  const reuse = process.env.BENCH_DATA_DIR && fs.existsSync(process.env.BENCH_DATA_DIR) ? process.env.BENCH_DATA_DIR : undefined;
  const clock = new FakeClock(NOW);
  let t = await startTestApp({ clock, dataDir: reuse ?? process.env.BENCH_DATA_DIR, env: { SUBSCRIPTION_DASHBOARD_NOCACHE: '1' } });
  log(`data dir ${t.dataDir}`);
  let key: string;
  if (reuse) {
    key = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  } else {
    key = await buildHistory(t);
  }
  await waitForProjections(t);
  const heavy = (await t.request('GET', '/api/subscription/dashboard/heavy', { key })).body;
  const light = (await t.request('GET', '/api/subscription/dashboard/light', { key })).body;
  log(`heavy: ${heavy.current_usage.total_calls} calls in the period; light: ${light.current_usage.total_calls}`);
  const results: Record<string, unknown> = {};
  const heavyName = `heavy (${heavy.current_usage.total_calls} calls)`;
  const lightName = `light (${light.current_usage.total_calls} calls)`;
  // Two rounds, alternating users; the second round is reported (the first warms the JIT and the page cache).
  for (const mode of ['nocache', 'cache'] as const) {
    if (mode === 'cache') {
      await t.close();
      t = await startTestApp({ clock, dataDir: t.dataDir });
      await waitForProjections(t);
    }
    for (let round = 1; round <= 2; round++) {
      const h = await measure(t, key, 'heavy');
      const l = await measure(t, key, 'light');
      log(`${mode} round ${round}: heavy p99 ${h.p99} ms, light p99 ${l.p99} ms`);
      if (round === 2) {
        results[`${mode} ${heavyName}`] = h;
        results[`${mode} ${lightName}`] = l;
      }
    }
  }
  await t.close();
  log(`${EVENTS} events in the store, ${CONNECTIONS} connections, ${REQUESTS} requests per case (ms):`);
  console.table(results);
  process.stdout.write(JSON.stringify({ events: EVENTS, connections: CONNECTIONS, requests: REQUESTS, results }) + '\n');
  if (!process.env.BENCH_DATA_DIR) fs.rmSync(t.dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
