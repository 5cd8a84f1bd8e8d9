/**
 * The floor `bench:gateway` measures Tollgate against: Fastify (as Tollgate runs it, JSON bodies parsed) in front of
 * an undici pool, forwarding /proxy/openai/... to the upstream and streaming the answer back, with nothing else: no
 * Nest, no keys, no limits, no metering, no events. What this adds over a direct call is what any Node proxy on this
 * machine pays; what Tollgate adds beyond it is Tollgate's own cost.
 * Run as a child of the bench: `node dist-bench/test/bench/bare-proxy.js` with PORT and UPSTREAM set.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

async function main() {
  const upstream = new URL(process.env.UPSTREAM!);
  const pool = new Pool(upstream.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 });
  const app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  app.all('/proxy/openai/*', async (req, reply) => {
    const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const r = await pool.request({
      method: req.method as 'POST',
      path: req.url.slice('/proxy/openai'.length),
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench', ...(body ? { 'content-length': String(body.length) } : {}) },
      body,
    });
    reply.hijack();
    const res = reply.raw;
    const out: Record<string, string | string[]> = {};
    for (const k in r.headers) if (k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = r.headers[k] as string;
    res.writeHead(r.statusCode, out);
    r.body.on('data', (c: Buffer) => res.write(c));
    r.body.once('end', () => res.end());
    r.body.once('error', () => res.destroy());
  });
  app.get('/health', async () => ({ status: 'ok' }));
  process.once('SIGTERM', () => process.exit(0)); // exits through process.exit, so --cpu-prof writes its profile
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
