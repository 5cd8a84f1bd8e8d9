/**
 * `npm run bench:gateway`: a fake OpenAI upstream (non-streamed chat completion with usage) called directly and
 * through Tollgate (a child process on a temp data dir, metering and event appends on), at 1, 16 and 64 connections,
 * with a 20 ms upstream delay and a 0 ms run for peak throughput; then a streamed run (time to first byte, total).
 * BENCH_SECONDS (default 15) and BENCH_WARMUP (default 3) shorten it; BENCH_CONNS="1,16" picks connection counts.
 * Every run warms up and is then measured on the same keep-alive connections, right before it (see `load`);
 * BENCH_DUMP=prefix writes each measured call's start and latency to a JSON file per run.
 * Tollgate runs as `npm start` runs it: compiled first (tsconfig.bench.json: the build's settings, with the benches,
 * into dist-bench/), then plain JS with the same V8 flag; BENCH_SOURCE=1 runs the TypeScript sources through ts-node
 * instead (slower: ts-node loads node:repl and with it node:domain).
 * Each connection count also runs a bare proxy (`bare-proxy.ts`: Fastify and undici, nothing else) as the floor a
 * Node proxy pays on this machine; BENCH_FLOOR=0 skips it. BENCH_NODE_ARGS adds Node/V8 flags to Tollgate's process (say
 * `--trace-gc`, which NODE_OPTIONS does not allow).
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { Pool } from 'undici';
import { FakeProvider } from '../fakes/fake-provider';
import { cpuMs, perThread, ThreadCpu, threadCpu, waitForHealth } from './process-cpu';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNS = (process.env.BENCH_CONNS ?? '1,16,64').split(',').map(Number);
const DELAYS = (process.env.BENCH_DELAYS ?? '20,0').split(',').map(Number);
const ADMIN = 'tg_admin_bench_key_0123456789abcdef';
const ROOT = path.resolve(__dirname, '../..');
/** Where tsconfig.bench.json compiles the app and the benches. */
const OUT = path.join(ROOT, 'dist-bench');

const BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello in five words.' }], stream: true });

interface Run {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  count: number;
}

const pct = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

/**
 * `conns` workers on a keep-alive pool of `conns` connections, each sending the next request when the last ends:
 * `warmup` seconds unmeasured, then `seconds` measured on the same connections (`onMeasure` runs at that switch).
 * Measuring on the connections the warm-up opened keeps their first calls out of the figures: a run that opened new
 * connections after a pause put its first two or three bursts of calls (16 calls each at 16 connections, every
 * server's first calls on a new connection plus, for a proxy, its upstream connections closed while idle) above p99.
 */
async function load(origin: string, p: string, headers: Record<string, string>, conns: number, seconds: number, warmup = 0, onMeasure?: () => void, body = BODY): Promise<Run> {
  const pool = new Pool(origin, { connections: conns, pipelining: 1 });
  const lat = new Float64Array(4_000_000);
  const starts = process.env.BENCH_DUMP ? new Float64Array(lat.length) : null;
  let n = 0;
  let errors = 0;
  const begin = performance.now() + warmup * 1000;
  const end = begin + seconds * 1000;
  let measuring = false;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const measured = t0 >= begin;
      if (measured && !measuring) {
        measuring = true;
        onMeasure?.();
      }
      let ok = false;
      try {
        const r = await pool.request({ method: 'POST', path: p, headers, body });
        await r.body.dump();
        ok = r.statusCode === 200;
      } catch {
        // counted below, as any answer but a 200
      }
      if (!measured) continue;
      if (!ok) errors++;
      if (n < lat.length) {
        if (starts) starts[n] = performance.timeOrigin + t0;
        lat[n++] = performance.now() - t0;
      }
    }
  };
  await Promise.all(Array.from({ length: conns }, worker));
  const elapsed = (performance.now() - begin) / 1000;
  await pool.close();
  // BENCH_DUMP=prefix: each measured request's start (epoch ms) and latency, to line them up with a trace of the server.
  if (starts) fs.writeFileSync(`${process.env.BENCH_DUMP}-${new URL(origin).port}-${conns}.json`, JSON.stringify({ starts: Array.from(starts.subarray(0, n)), lat: Array.from(lat.subarray(0, n)) }));
  const sorted = lat.slice(0, n).sort();
  return { rps: n / elapsed, p50: pct(sorted, 50), p90: pct(sorted, 90), p99: pct(sorted, 99), errors, count: n };
}

/** Time to first byte and total of sequential streamed calls. */
async function streamed(origin: string, p: string, headers: Record<string, string>, seconds: number) {
  const pool = new Pool(origin, { connections: 1 });
  const ttfb: number[] = [];
  const total: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = performance.now();
    const r = await pool.request({ method: 'POST', path: p, headers, body: STREAM_BODY });
    let first = 0;
    for await (const _ of r.body) if (!first) first = performance.now() - t0;
    ttfb.push(first);
    total.push(performance.now() - t0);
  }
  await pool.close();
  const s = (a: number[]) => Float64Array.from(a).sort();
  return { n: ttfb.length, ttfbP50: pct(s(ttfb), 50), ttfbP99: pct(s(ttfb), 99), totalP50: pct(s(total), 50), totalP99: pct(s(total), 99) };
}

async function startTollgate(upstream: string): Promise<{ child: ChildProcess; url: string; dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-bench-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const dist = path.join(OUT, 'src/main.js');
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  // The V8 flag `npm start` and the image run with (a 64 MB young-generation semi-space).
  const args = ['--max-semi-space-size=64', ...prof, ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), ...(process.env.BENCH_SOURCE ? ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src/main.ts')] : [dist])];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, TOLLGATE_ADMIN_KEY: ADMIN, TOLLGATE_MASTER_KEY: '0'.repeat(63) + '1', TOLLGATE_UPSTREAM_OPENAI: upstream, LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 'Tollgate', 300, 200);
  return { child, url, dataDir };
}

/** The bare proxy, compiled with the app (no ts-node in the measured process) and started like Tollgate. */
async function startBare(upstream: string): Promise<{ child: ChildProcess; url: string }> {
  const file = path.join(OUT, 'test/bench/bare-proxy.js');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, ['--max-semi-space-size=64', ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}/bare`] : []), file], { cwd: ROOT, env: { ...process.env, PORT: String(port), UPSTREAM: upstream }, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url, child, 'the bare proxy', 100, 100);
  return { child, url };
}

async function call(url: string, method: string, p: string, key: string, body?: unknown) {
  const r = await fetch(url + p, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  if (!process.env.BENCH_SOURCE) execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT, stdio: 'inherit' });
  const fake = new FakeProvider('openai');
  fake.keepRequests = false;
  await fake.start();
  const tg = await startTollgate(fake.url);
  const bare = process.env.BENCH_FLOOR === '0' ? null : await startBare(fake.url);
  try {
    await call(tg.url, 'POST', '/api/admin/tenants', ADMIN, { tenant_id: 'bench', name: 'Bench' });
    const tenantKey = (await call(tg.url, 'POST', '/api/admin/tenants/bench/keys', ADMIN, { role: 'tenant' })).key;
    await call(tg.url, 'PUT', '/api/tenant/provider-keys/openai', tenantKey, { api_key: 'sk-bench' });
    // Limits that apply (checked on every call) but are never reached.
    await call(tg.url, 'PUT', '/api/admin/plans/bench', ADMIN, { name: 'Bench', monthly_price: 1, yearly_price: 10, limits: { total_calls: 1_000_000_000, openai_calls: 1_000_000_000, openai_tokens: 1e13, monthly_cost: 1e9 } });
    const userKey = (await call(tg.url, 'POST', '/api/tenant/keys', tenantKey, { user_id: 'bench-user' })).key;
    await call(tg.url, 'POST', '/api/subscription/subscribe', tenantKey, { user_id: 'bench-user', plan_id: 'bench', billing_cycle: 'monthly' });

    const direct = { origin: fake.url, path: '/v1/chat/completions', headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' } };
    const through = { origin: tg.url, path: '/proxy/openai/v1/chat/completions', headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' } };

    console.log(`gateway bench: ${SECONDS}s per run after ${WARMUP}s warm-up, ${os.cpus().length} cores, node ${process.version}`);
    for (const delay of DELAYS) {
      fake.delayMs = delay;
      console.log(`\nupstream delay ${delay} ms (non-streamed chat completion with usage)`);
      console.log('conns | direct rps  p50    p90    p99  | tollgate rps  p50    p90    p99  | added p50  p90   p99  | rps kept | tollgate CPU/request (all threads, and the HTTP thread alone)');
      for (const c of CONNS) {
        const d = await load(direct.origin, direct.path, direct.headers, c, SECONDS, WARMUP);
        const b = bare ? await load(bare.url, through.path, direct.headers, c, SECONDS, WARMUP) : null;
        let cpu0 = 0;
        let main0 = 0;
        let threads0: ThreadCpu = new Map();
        const t = await load(through.origin, through.path, through.headers, c, SECONDS, WARMUP, () => {
          cpu0 = cpuMs(tg.child.pid!);
          main0 = cpuMs(tg.child.pid!, tg.child.pid!);
          threads0 = threadCpu(tg.child.pid!);
        });
        const cpuPerReq = (cpuMs(tg.child.pid!) - cpu0) / Math.max(1, t.count);
        const mainPerReq = (cpuMs(tg.child.pid!, tg.child.pid!) - main0) / Math.max(1, t.count);
        console.log(
          `${String(c).padStart(5)} | ${f(d.rps, 0).padStart(10)} ${f(d.p50)} ${f(d.p90)} ${f(d.p99)} | ${f(t.rps, 0).padStart(12)} ${f(t.p50)} ${f(t.p90)} ${f(t.p99)} | ${f(t.p50 - d.p50).padStart(9)} ${f(t.p90 - d.p90)} ${f(t.p99 - d.p99)} | ${f((100 * t.rps) / d.rps, 1).padStart(7)}% | ${f(cpuPerReq, 3)} ms (HTTP thread ${f(mainPerReq, 3)} ms)` +
            (d.errors || t.errors ? `  (errors: direct ${d.errors}, tollgate ${t.errors})` : ''),
        );
        if (process.env.BENCH_THREADS) console.log(`      | CPU ms per request by thread: ${perThread(threads0, threadCpu(tg.child.pid!), tg.child.pid!, t.count)
              .filter(([, ms]) => ms >= 0.005)
              .map(([n, ms]) => `${n} ${ms.toFixed(3)}`)
              .join(', ')}`);
        if (b) console.log(`      | floor: a bare Fastify + undici proxy ${f(b.rps, 0).padStart(6)} rps | ${f(b.p50)} ${f(b.p90)} ${f(b.p99)} | added ${f(b.p50 - d.p50)} ${f(b.p90 - d.p90)} ${f(b.p99 - d.p99)} | ${f((100 * b.rps) / d.rps, 1)}%` + (b.errors ? ` (errors ${b.errors})` : ''));
      }
    }

    fake.delayMs = 0;
    fake.gapMs = 5;
    const sSeconds = Math.max(2, Math.min(SECONDS, 5));
    const sd = await streamed(direct.origin, direct.path, direct.headers, sSeconds);
    const st = await streamed(through.origin, through.path, through.headers, sSeconds);
    console.log(`\nstreamed chat (7 events, 5 ms apart), 1 connection, ${sSeconds}s`);
    console.log(`direct   : ${sd.n} calls, TTFB p50 ${f(sd.ttfbP50)} p99 ${f(sd.ttfbP99)} ms, total p50 ${f(sd.totalP50)} p99 ${f(sd.totalP99)} ms`);
    console.log(`tollgate : ${st.n} calls, TTFB p50 ${f(st.ttfbP50)} p99 ${f(st.ttfbP99)} ms, total p50 ${f(st.totalP50)} p99 ${f(st.totalP99)} ms`);
    console.log(`added    : TTFB p50 ${f(st.ttfbP50 - sd.ttfbP50)} ms, total p50 ${f(st.totalP50 - sd.totalP50)} ms`);

    const usage = await call(tg.url, 'GET', '/api/subscription/usage/bench-user', userKey);
    console.log(`\nrecorded through Tollgate this period: ${usage?.current_usage?.total_calls ?? '?'} calls`);
  } finally {
    tg.child.kill('SIGTERM');
    await new Promise((r) => tg.child.once('exit', r));
    bare?.child.kill('SIGTERM');
    await fake.stop();
    fs.rmSync(tg.dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
