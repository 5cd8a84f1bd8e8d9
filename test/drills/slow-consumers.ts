/**
 * Slow consumers (`npm run drill:slow`, SLOW_SECONDS to change, default 120; the short version runs in npm test):
 * one Tollgate process whose webhook receiver never answers, while clients read streams slowly (paused sockets,
 * a chunk now and then) or go away mid-stream, beside steady normal traffic. Sampled every second from /metrics
 * (prom-client default metrics, measured inside the process with perf_hooks.monitorEventLoopDelay): event-loop
 * delay p99 and max, heap used and RSS. Memory must not grow with time; the event loop must not block.
 */
import * as http from 'http';
import { Cluster, sleep } from '../support/cluster';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { FaultUpstream } from './support/fault-upstream';
import { chat, expectOk, setupTenant, subscribeUsers } from './support/workload';

export interface Sample {
  t: number;
  rssMb: number;
  heapMb: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

export interface SlowResult {
  samples: Sample[];
  slowReaders: number;
  abandoned: number;
  normalCalls: number;
  normalErrors: number;
  webhookRequestsHeld: number;
  /** Heap used over the last quarter of the run minus over the second quarter (MB). */
  heapGrowthMb: number;
  rssGrowthMb: number;
  maxLagP99Ms: number;
  medianLagP99Ms: number;
  maxLagMaxMs: number;
}

/** Reads the metrics this drill follows from /metrics. */
export async function sampleMetrics(c: Cluster, t0: number): Promise<Sample> {
  const r = await c.instances[0].request('GET', '/metrics');
  const v = (name: string) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(r.text);
    return m ? Number(m[1]) : NaN;
  };
  return {
    t: Math.round((Date.now() - t0) / 1000),
    rssMb: v('tollgate_process_resident_memory_bytes') / 2 ** 20,
    heapMb: v('tollgate_nodejs_heap_size_used_bytes') / 2 ** 20,
    lagP99Ms: v('tollgate_nodejs_eventloop_lag_p99_seconds') * 1000,
    lagMaxMs: v('tollgate_nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

/** A client that asks for a long stream and reads it slowly: socket paused, one read every `everyMs`. */
const openRequests = new Set<http.ClientRequest>();

function slowReader(url: string, key: string, user: string, everyMs: number, abandonAfterMs: number | null): Promise<void> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ model: 'gpt-4', stream: true, messages: [{ role: 'user', content: 'mode:slowstream hi' }] });
    const req = http.request(`${url}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'x-tollgate-user': user, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    openRequests.add(req);
    req.on('close', () => openRequests.delete(req));
    req.on('error', () => resolve());
    req.on('response', (res) => {
      res.on('error', () => resolve());
      res.on('end', () => resolve());
      res.on('close', () => resolve());
      if (abandonAfterMs !== null) {
        res.resume();
        setTimeout(() => req.destroy(), abandonAfterMs).unref();
        return;
      }
      res.pause();
      const timer = setInterval(() => {
        if (res.destroyed || res.readableEnded) return clearInterval(timer);
        res.read(64);
      }, everyMs);
      timer.unref();
      res.on('end', () => clearInterval(timer));
      res.on('close', () => clearInterval(timer));
      // Read what is left at the end.
      res.on('readable', () => undefined);
    });
    req.end(body);
  });
}

export async function runSlowConsumers(seconds: number, log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<SlowResult> {
  const upstream = new FaultUpstream();
  await upstream.start();
  const receiver = new WebhookReceiver({ secret: 'whsec_drill_secret_0123456789', hang: true });
  const hookUrl = await receiver.start();
  const env = { TOLLGATE_UPSTREAM_OPENAI: upstream.url, TOLLGATE_WEBHOOK_ALLOW_PRIVATE: '1' };
  const cluster = await Cluster.start({ instances: 1, env });
  const inst = cluster.instances[0];
  const t = await setupTenant(inst, cluster.adminKey, { tenantId: 'slow', planId: 'slow-plan', limits: {} });
  // The users of the normal traffic are on a small plan: they cross alert thresholds (webhooks to the hanging receiver).
  expectOk(await inst.request('PUT', '/api/admin/plans/slow-small', { key: cluster.adminKey, body: { name: 'Small', monthly_price: 0, yearly_price: 0, limits: { total_calls: 5 }, alert_thresholds: [20, 40, 60, 80, 100] } }), 'PUT plan');
  await subscribeUsers(inst, t.tenantKey, Array.from({ length: 40 }, (_, i) => `alerted-${i}`), 'slow-small');
  const hook = await inst.request('PUT', '/api/tenant/webhooks', { key: t.tenantKey, body: { url: hookUrl, secret: 'whsec_drill_secret_0123456789' } });
  expectOk(hook, 'PUT webhook');
  const t0 = Date.now();
  const end = t0 + seconds * 1000;
  const samples: Sample[] = [];
  const counters = { slowReaders: 0, abandoned: 0, normalCalls: 0, normalErrors: 0 };
  let alertUser = 0;
  const loops = [
    // Slow readers: a long stream each, read 64 bytes a second.
    ...Array.from({ length: 6 }, (_, i) =>
      (async () => {
        while (Date.now() < end) {
          counters.slowReaders++;
          await Promise.race([slowReader(inst.url, t.tenantKey, `reader-${i}`, 1000, null), sleep(Math.max(0, end - Date.now()))]);
        }
      })(),
    ),
    // Clients that go away mid-stream.
    (async () => {
      while (Date.now() < end) {
        counters.abandoned++;
        await slowReader(inst.url, t.tenantKey, `leaver-${counters.abandoned % 10}`, 0, 300 + Math.random() * 700);
        await sleep(50);
      }
    })(),
    // Normal traffic, and users who cross alert thresholds (each alert is a webhook to the hanging receiver).
    (async () => {
      while (Date.now() < end) {
        const user = `alerted-${alertUser++ % 40}`;
        const r = await chat(inst, t.tenantKey, user).catch(() => null);
        counters.normalCalls++;
        if (!r || (r.status !== 200 && r.status !== 429)) counters.normalErrors++;
        await sleep(20);
      }
    })(),
    // Sampler.
    (async () => {
      while (Date.now() < end) {
        await sleep(1000);
        const s = await sampleMetrics(cluster, t0).catch(() => null);
        if (s) {
          samples.push(s);
          if (s.t % 10 === 0) log(`  t=${s.t}s rss ${s.rssMb.toFixed(1)} MB, heap ${s.heapMb.toFixed(1)} MB, event-loop delay p99 ${s.lagP99Ms.toFixed(1)} ms, max ${s.lagMaxMs.toFixed(1)} ms`);
        }
      }
    })(),
  ];
  await Promise.all(loops);
  for (const r of openRequests) r.destroy();
  const deliveries = await inst.request('GET', '/api/tenant/webhooks/deliveries', { key: t.tenantKey }).catch(() => null);
  await cluster.stop();
  await upstream.stop();
  await receiver.stop?.();
  cluster.remove();
  const q = Math.max(1, Math.floor(samples.length / 4));
  const avg = (xs: Sample[], f: (s: Sample) => number) => xs.reduce((a, s) => a + f(s), 0) / Math.max(1, xs.length);
  const second = samples.slice(q, 2 * q);
  const last = samples.slice(-q);
  const result: SlowResult = {
    samples,
    ...counters,
    webhookRequestsHeld: (receiver as any).hanging?.length ?? 0,
    heapGrowthMb: avg(last, (s) => s.heapMb) - avg(second, (s) => s.heapMb),
    rssGrowthMb: avg(last, (s) => s.rssMb) - avg(second, (s) => s.rssMb),
    // The first 3 s are the process warming up (JIT, first queries): not counted.
    maxLagP99Ms: Math.max(...samples.filter((s) => s.t > 3).map((s) => s.lagP99Ms)),
    maxLagMaxMs: Math.max(...samples.filter((s) => s.t > 3).map((s) => s.lagMaxMs)),
    medianLagP99Ms: median(samples.filter((s) => s.t > 3).map((s) => s.lagP99Ms)),
  };
  log(
    `slow consumers, ${seconds} s: ${counters.slowReaders} slow readers, ${counters.abandoned} abandoned streams, ${counters.normalCalls} normal calls (${counters.normalErrors} errors), ` +
      `${result.webhookRequestsHeld} webhook requests held by the hanging receiver, deliveries listed ${deliveries?.body?.deliveries?.length ?? deliveries?.body?.items?.length ?? '?'}; ` +
      `heap growth ${result.heapGrowthMb.toFixed(1)} MB, rss growth ${result.rssGrowthMb.toFixed(1)} MB, event-loop delay p99 median ${result.medianLagP99Ms.toFixed(1)} ms, p99 max ${result.maxLagP99Ms.toFixed(1)} ms, max ${result.maxLagMaxMs.toFixed(1)} ms`,
  );
  return result;
}

if (require.main === module) {
  runSlowConsumers(Number(process.env.SLOW_SECONDS ?? 120))
    .then((r) => {
      const ok = r.heapGrowthMb < 20 && r.medianLagP99Ms < 100 && r.maxLagP99Ms < 1000 && r.normalErrors === 0;
      process.stdout.write(ok ? 'PASS\n' : 'FAIL\n');
      process.exit(ok ? 0 : 1);
    })
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}
