/**
 * Ingest benchmark (`npm run bench:ingest`): POST /api/usage/events in batches of 100 events, with several connections,
 * against the app on a fresh data dir (embedded SQLite, synchronous=FULL unless TOLLGATE_SQLITE_SYNC says otherwise).
 * Prints accepted events/s (every 200 means every event of the batch was durable) and the time from the last response
 * until the read models (api_usage_logs, usage_summaries and every other projection) have applied every event.
 *
 * The load runs in a worker thread (its own core), the app in the main thread, as a client and Tollgate would. The
 * script compiles the app and this file (tsconfig.bench.json) and runs them as `npm start` runs Tollgate: plain JS
 * with its V8 flag, no ts-node (which loads node:domain, and with it a slower EventEmitter.emit).
 * Options (env): BENCH_EVENTS (default 200000), BENCH_BATCH (100), BENCH_CONNECTIONS (8), BENCH_USERS (1000),
 * BENCH_SPREAD_S (60): events are dated up to this many seconds before they are sent, as an application reports
 * calls as they finish. A spread longer than the 60 s grace dates most events before their user's first billing
 * period (which began at the user's first event), so they count in the calendar period before it: a backfill,
 * about twice the documents per user (BENCH_SPREAD_S=3600 was this benchmark's default until session 6).
 */
import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { buildApp } from '../../src/app.factory';
import { LazyProjectionRunner, PROJECTION_RUNNER, tuneHeapGrowth } from '../../src/shell';
import { perThread, threadCpu } from './process-cpu';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const USERS = Number(process.env.BENCH_USERS ?? 1000);
const SPREAD_S = Number(process.env.BENCH_SPREAD_S ?? 60);
const ADMIN_KEY = 'tg_admin_bench_key_0123456789abcdef';
const TENANT = 'bench-shop';

const log = (msg: string) => process.stdout.write(`[bench:ingest] ${msg}\n`);

/** The load generator, in plain JS for the worker: bodies are built before the clock starts. */
const CLIENT = `
const { parentPort, workerData } = require('worker_threads');
const { Pool } = require('undici');
const { url, key, events, batch, connections, users, warmup, spread } = workerData;
const providers = [['openai', 'gpt-4o'], ['anthropic', 'claude-3-5-sonnet-latest'], ['gemini', 'gemini-2.5-flash'], ['tavily', 'search']];
function body(start, n, prefix) {
  const evs = [];
  const now = Date.now();
  for (let i = start; i < start + n; i++) {
    const [provider, model] = providers[i % providers.length];
    const search = provider === 'tavily';
    evs.push({ id: prefix + i, user_id: 'user-' + (i % users), provider, model, input_tokens: search ? 0 : 200 + (i % 500), output_tokens: search ? 0 : 50 + (i % 200),
      units: search ? 1 : 0, occurred_at: new Date(now - (i % spread) * 1000).toISOString(), latency_ms: 100 + (i % 400) });
  }
  return JSON.stringify({ events: evs });
}
(async () => {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const headers = { authorization: 'Bearer ' + key, 'content-type': 'application/json' };
  async function run(bodies) {
    let next = 0, accepted = 0, other = 0, failures = 0;
    const lat = [];
    async function lane() {
      while (next < bodies.length) {
        const b = bodies[next++];
        const t0 = process.hrtime.bigint();
        const res = await pool.request({ path: '/api/usage/events', method: 'POST', headers, body: b });
        const json = await res.body.json();
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.statusCode !== 200) { failures++; if (failures < 3) console.error('status', res.statusCode, JSON.stringify(json).slice(0, 300)); continue; }
        for (const r of json.results) r.status === 'accepted' ? accepted++ : other++;
      }
    }
    const t0 = Date.now();
    await Promise.all(Array.from({ length: connections }, lane));
    const ms = Date.now() - t0;
    lat.sort((a, b) => a - b);
    return { accepted, other, failures, ms, p50: lat[Math.floor(lat.length * 0.5)], p99: lat[Math.floor(lat.length * 0.99)] };
  }
  const warm = [];
  for (let i = 0; i < warmup; i += batch) warm.push(body(i, batch, 'w'));
  await run(warm);
  const bodies = [];
  for (let i = 0; i < events; i += batch) bodies.push(body(i, Math.min(batch, events - i), 'e'));
  parentPort.postMessage({ type: 'start' });
  const result = await run(bodies);
  await pool.close();
  parentPort.postMessage({ type: 'done', result });
})().catch((e) => parentPort.postMessage({ type: 'error', message: String(e && e.stack || e) }));
`;

async function main() {
  const dataDir = process.env.BENCH_DATA_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-ingest-'));
  const env = { ...process.env, DATA_DIR: dataDir, TOLLGATE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'silent', PORT: '0' } as NodeJS.ProcessEnv;
  delete env.TOLLGATE_MASTER_KEY;
  tuneHeapGrowth(); // as main.ts does
  const app = await buildApp({ env, quiet: true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const call = async (method: string, p: string, key: string, body?: unknown) => {
    const res = await fetch(url + p, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const json: any = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await call('POST', '/api/admin/tenants', ADMIN_KEY, { tenant_id: TENANT, name: 'Ingest bench', default_plan_id: 'enterprise' });
  const key = (await call('POST', `/api/admin/tenants/${TENANT}/keys`, ADMIN_KEY, { role: 'tenant' })).key as string;
  const sync = env.TOLLGATE_SQLITE_SYNC ?? 'full';
  log(`${EVENTS} events in batches of ${BATCH}, ${CONNECTIONS} connections, ${USERS} users, dated up to ${SPREAD_S} s back, SQLite synchronous=${sync}, data in ${dataDir}`);

  const runner = app.get<LazyProjectionRunner>(PROJECTION_RUNNER).get();
  const worker = new Worker(CLIENT, { eval: true, workerData: { url, key, events: EVENTS, batch: BATCH, connections: CONNECTIONS, users: USERS, warmup: 5000, spread: SPREAD_S } });
  const cpu0 = process.cpuUsage();
  const threads0 = threadCpu(process.pid);
  const result = await new Promise<any>((resolve, reject) => {
    worker.on('message', (m) => (m.type === 'done' ? resolve(m.result) : m.type === 'error' ? reject(new Error(m.message)) : log('warm-up done, measuring')));
    worker.on('error', reject);
  });
  const ended = Date.now();
  const cpu = process.cpuUsage(cpu0);
  await runner.caughtUp(120_000);
  const catchUp = Date.now() - ended;
  const threads = threadCpu(process.pid);
  await worker.terminate();

  const perSecond = Math.round((result.accepted / result.ms) * 1000);
  log(`accepted ${result.accepted} events (${result.other} not accepted, ${result.failures} failed requests) in ${(result.ms / 1000).toFixed(2)} s`);
  log(`throughput: ${perSecond.toLocaleString('en-US')} events/s accepted and durable (target >= 20,000)`);
  log(`request latency (batch of ${BATCH}): p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms`);
  log(`process CPU: ${((cpu.user + cpu.system) / result.accepted).toFixed(1)} µs per event (Tollgate's thread with its projections, plus the load worker)`);
  const byThread = perThread(threads0, threads, process.pid, result.accepted)
    .map(([n, ms]) => [n, ms * 1000] as const)
    .filter(([, us]) => us >= 1);
  log(`CPU per event by thread, until caught up: ${byThread.map(([n, us]) => `${n} ${us.toFixed(1)} µs`).join(', ')} (the HTTP thread is the main one; the writer, projector and load worker are the others)`);
  log(`read models caught up ${(catchUp / 1000).toFixed(2)} s after the last response (target <= 2 s)`);
  const status = await runner.status();
  log(`projections: ${status.map((s) => `${s.name} lag ${s.lag}`).join(', ')}`);
  await app.close();
  if (!process.env.BENCH_DATA_DIR) fs.rmSync(dataDir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
