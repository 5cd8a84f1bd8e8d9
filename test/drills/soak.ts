/**
 * Soak (`npm run soak`; SOAK_MINUTES to change, default 10; SOAK_CLIENTS concurrent clients, default 8): one Tollgate
 * process takes steady gateway traffic (plain and streamed calls to a loopback OpenAI) and report batches. Every minute
 * it prints RSS, heap used, event-loop delay (p99 and max, measured inside the process by prom-client's
 * perf_hooks.monitorEventLoopDelay) and the client-side latency percentiles of the minute. At the end: the curve, and
 * whether memory levelled off (the heap of the last minute against the second minute).
 */
import { Cluster, sleep } from '../support/cluster';
import { FaultUpstream } from './support/fault-upstream';
import { sampleMetrics } from './slow-consumers';
import { chat, percentile, reportEvent, setupTenant } from './support/workload';

interface Minute {
  minute: number;
  rssMb: number;
  /** The lowest heap used sampled in the minute (every 5 s): the floor after collections. */
  heapMb: number;
  lagP99Ms: number;
  lagMaxMs: number;
  gateway: { n: number; errors: number; p50: number; p90: number; p99: number };
  report: { n: number; errors: number; p50: number; p90: number; p99: number };
}

async function main(): Promise<void> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 10);
  const clients = Number(process.env.SOAK_CLIENTS ?? 8);
  const upstream = new FaultUpstream({ defaultDelayMs: 5 });
  await upstream.start();
  // With the V8 flag `npm start` and the image use (a 64 MB young-generation semi-space): its memory is part of the soak.
  const cluster = await Cluster.start({ instances: 1, env: { TOLLGATE_UPSTREAM_OPENAI: upstream.url, NODE_OPTIONS: '--max-semi-space-size=64' }, sqliteSync: 'full' });
  const inst = cluster.instances[0];
  const t = await setupTenant(inst, cluster.adminKey, { tenantId: 'soak', planId: 'soak-plan', limits: {} });
  process.stdout.write(`soak: ${minutes} min, ${clients} clients, data in ${cluster.dataDir}\n`);
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;
  let gw: number[] = [];
  let rp: number[] = [];
  let gwErr = 0;
  let rpErr = 0;
  let calls = 0;
  const curve: Minute[] = [];
  const workers = Array.from({ length: clients }, (_, i) =>
    (async () => {
      let n = 0;
      while (Date.now() < end) {
        const user = `soak-user-${(i * 97 + n++) % 500}`;
        const s = performance.now();
        if (n % 5 === 0) {
          const r = await inst.request('POST', '/api/usage/events', { key: t.tenantKey, body: { events: Array.from({ length: 20 }, () => reportEvent(user)) } }).catch(() => null);
          rp.push(performance.now() - s);
          if (!r || r.status !== 200) rpErr++;
        } else {
          const r = await chat(inst, t.tenantKey, user, { stream: n % 3 === 0 }).catch(() => null);
          gw.push(performance.now() - s);
          if (!r || r.status !== 200) gwErr++;
        }
        calls++;
      }
    })(),
  );
  const stats = (xs: number[], errors: number) => {
    const s = [...xs].sort((a, b) => a - b);
    const r = (v: number) => Math.round(v * 10) / 10;
    return { n: s.length, errors, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)) };
  };
  // Heap is sampled every 5 s: the minute's floor (lowest sample, after the collector ran) is what must level off.
  let heapSamples: number[] = [];
  const heapSampler = (async () => {
    while (Date.now() < end) {
      await sleep(5_000);
      const x = await sampleMetrics(cluster, t0).catch(() => null);
      if (x) heapSamples.push(x.heapMb);
    }
  })();
  const reporter = (async () => {
    for (let m = 1; Date.now() < end; m++) {
      await sleep(Math.max(0, t0 + m * 60_000 - Date.now()));
      const sample = await sampleMetrics(cluster, t0);
      heapSamples.push(sample.heapMb);
      const floor = Math.min(...heapSamples);
      heapSamples = [];
      const row: Minute = { minute: m, rssMb: round(sample.rssMb), heapMb: round(floor), lagP99Ms: round(sample.lagP99Ms), lagMaxMs: round(sample.lagMaxMs), gateway: stats(gw, gwErr), report: stats(rp, rpErr) };
      gw = [];
      rp = [];
      gwErr = 0;
      rpErr = 0;
      curve.push(row);
      process.stdout.write(
        `minute ${m}: rss ${row.rssMb} MB, heap floor ${row.heapMb} MB (now ${round(sample.heapMb)}), event-loop delay p99 ${row.lagP99Ms} ms (max ${row.lagMaxMs}); ` +
          `gateway ${row.gateway.n} calls (${row.gateway.errors} errors) p50/p90/p99 ${row.gateway.p50}/${row.gateway.p90}/${row.gateway.p99} ms; ` +
          `report ${row.report.n} batches of 20 (${row.report.errors} errors) p50/p90/p99 ${row.report.p50}/${row.report.p90}/${row.report.p99} ms\n`,
      );
    }
  })();
  await Promise.all([...workers, reporter, heapSampler]);
  await cluster.stop();
  await upstream.stop();
  cluster.remove();
  const second = curve[1] ?? curve[0];
  const last = curve[curve.length - 1];
  const growth = last && second ? last.heapMb - second.heapMb : 0;
  process.stdout.write(`soak done: ${calls} requests; heap minute 2 -> ${curve.length}: ${second?.heapMb} -> ${last?.heapMb} MB (${growth >= 0 ? '+' : ''}${round(growth)} MB); rss ${second?.rssMb} -> ${last?.rssMb} MB\n`);
  process.stdout.write(`curve (minute, rss MB, heap floor MB, lag p99 ms): ${curve.map((c) => `[${c.minute}, ${c.rssMb}, ${c.heapMb}, ${c.lagP99Ms}]`).join(' ')}\n`);
  const errors = curve.reduce((n, c) => n + c.gateway.errors + c.report.errors, 0);
  const levelled = curve.length < 3 || growth < Math.max(20, second.heapMb * 0.25);
  process.stdout.write(levelled && errors === 0 ? 'PASS\n' : `FAIL (${errors} errors, heap growth ${round(growth)} MB)\n`);
  process.exit(levelled && errors === 0 ? 0 : 1);
}

const round = (v: number) => Math.round(v * 10) / 10;

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
