/**
 * Secret canaries (6b): unique fake secrets as the admin and master keys, the tenants' stored provider keys, issued
 * Tollgate keys in every auth header the gateway accepts (Authorization, x-api-key, x-goog-api-key, x-tollgate-key,
 * Gemini's ?key=), a caller's own provider key, wrong keys, and inside a fake provider's error body. A real Tollgate
 * process runs gateway and management calls at LOG_LEVEL=debug; then stdout/stderr, the log files, every HTTP answer,
 * the event store and read-model files (WAL included) and /api/docs-json are searched: 0 hits. The provider's error
 * body canary may reach the client (it is the provider's answer) but nothing else; Tollgate keys never reach the provider.
 */
import { Cluster, HttpResult, Instance } from '../support/cluster';
import { Canary, CanaryHit, issuedCanary, makeCanary, scan, scanDir } from '../support/canary';
import { FaultUpstream } from './support/fault-upstream';
import { expectOk } from './support/workload';

jest.setTimeout(120_000);

describe('secrets canary', () => {
  it('finds no secret in output, logs, answers, stores or the OpenAPI document', async () => {
    const admin = makeCanary('admin key', 'tg_admin_canary_');
    const master = makeCanary('master key', '', 64);
    const providerKeys = {
      openai: makeCanary('stored openai key', 'sk-canary-openai-'),
      anthropic: makeCanary('stored anthropic key', 'sk-ant-canary-'),
      gemini: makeCanary('stored gemini key', 'AIzaCanary'),
    };
    const callerOwn = makeCanary("caller's own openai key", 'sk-canary-own-');
    const wrongTollgate = makeCanary('wrong tollgate key', 'tg_wrongcanary_');
    const wrongQuery = makeCanary('wrong ?key=', 'tg_querycanary_');
    const upstreamError = makeCanary('provider error body', 'upstream-secret-');
    const upstream = new FaultUpstream({ errorCanary: upstreamError.value });
    await upstream.start();
    const env: Record<string, string> = {};
    for (const p of ['OPENAI', 'ANTHROPIC', 'GEMINI']) env[`TOLLGATE_UPSTREAM_${p}`] = upstream.url;
    const cluster = await Cluster.start({ instances: 1, env, adminKey: admin.value, masterKey: master.value, logLevel: 'debug', captureOutput: true });
    const inst = cluster.instances[0];
    const answers: Array<{ what: string; r: HttpResult; mayHoldProviderError?: boolean; showsIssuedKey?: boolean }> = [];
    const call = async (what: string, method: string, p: string, o: Parameters<Instance['request']>[2] = {}, flags: { mayHoldProviderError?: boolean; showsIssuedKey?: boolean } = {}) => {
      const r = await inst.request(method, p, o);
      answers.push({ what, r, ...flags });
      return r;
    };
    try {
      expectOk(await call('put plan', 'PUT', '/api/admin/plans/canary-plan', { key: admin.value, body: { name: 'Canary', monthly_price: 0, yearly_price: 0, limits: { total_calls: 1000 } } }), 'plan');
      expectOk(await call('tenant', 'POST', '/api/admin/tenants', { key: admin.value, body: { tenant_id: 'canary-tenant', name: 'Canary', default_plan_id: 'canary-plan' } }), 'tenant');
      const tk = await call('tenant key', 'POST', '/api/admin/tenants/canary-tenant/keys', { key: admin.value, body: { role: 'tenant' } }, { showsIssuedKey: true });
      expectOk(tk, 'tenant key');
      const tenantKey = issuedCanary('tenant key', tk.body.key);
      for (const [p, c] of Object.entries(providerKeys)) expectOk(await call(`provider key ${p}`, 'PUT', `/api/tenant/provider-keys/${p}`, { key: tenantKey.value, body: { api_key: c.value } }), 'provider key');
      const uk = await call('user key', 'POST', '/api/tenant/keys', { key: tenantKey.value, body: { user_id: 'canary-user' } }, { showsIssuedKey: true });
      expectOk(uk, 'user key');
      const userKey = issuedCanary('user key', uk.body.key);
      const canaries: Canary[] = [admin, master, ...Object.values(providerKeys), callerOwn, wrongTollgate, wrongQuery, tenantKey, userKey];

      const chatBody = (mode = 'ok') => ({ model: 'gpt-4', messages: [{ role: 'user', content: `mode:${mode} hi` }] });
      const anthropicBody = { model: 'claude-3-haiku-20240307', max_tokens: 16, messages: [{ role: 'user', content: 'mode:ok hi' }] };
      const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'mode:ok hi' }] }] };
      const gem = '/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent';
      const u = { 'x-tollgate-user': 'canary-user' };
      const gateway: Array<[string, string, Parameters<Instance['request']>[2], { mayHoldProviderError?: boolean }?]> = [
        ['openai bearer', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${tenantKey.value}`, ...u }, body: chatBody() }],
        ['openai x-tollgate-key', '/proxy/openai/v1/chat/completions', { headers: { 'x-tollgate-key': tenantKey.value, ...u }, body: chatBody() }],
        ['openai stream', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${tenantKey.value}`, ...u }, body: { ...chatBody('stream'), stream: true } }],
        ['openai user key', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${userKey.value}` }, body: chatBody() }],
        ['openai own provider key', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${callerOwn.value}`, 'x-tollgate-key': tenantKey.value, ...u }, body: chatBody() }],
        ['openai provider error', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${tenantKey.value}`, ...u }, body: chatBody('canary-error') }, { mayHoldProviderError: true }],
        ['anthropic x-api-key', '/proxy/anthropic/v1/messages', { headers: { 'x-api-key': tenantKey.value, 'anthropic-version': '2023-06-01', ...u }, body: anthropicBody }],
        ['anthropic bearer user key', '/proxy/anthropic/v1/messages', { headers: { authorization: `Bearer ${userKey.value}`, 'anthropic-version': '2023-06-01' }, body: anthropicBody }],
        ['gemini x-goog-api-key', gem, { headers: { 'x-goog-api-key': tenantKey.value, ...u }, body: geminiBody }],
        ['gemini ?key=', `${gem}?key=${encodeURIComponent(tenantKey.value)}`, { headers: u, body: geminiBody }],
        ['gemini ?key= user key', `${gem}?key=${encodeURIComponent(userKey.value)}&alt=json`, { body: geminiBody }],
        ['gemini wrong ?key=', `${gem}?key=${wrongQuery.value}`, { headers: u, body: geminiBody }],
        ['openai wrong key', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${wrongTollgate.value}`, ...u }, body: chatBody() }],
        ['anthropic wrong key', '/proxy/anthropic/v1/messages', { headers: { 'x-api-key': wrongTollgate.value, 'anthropic-version': '2023-06-01' }, body: anthropicBody }],
      ];
      for (const [what, p, o, flags] of gateway) await call(what, 'POST', p, o, flags);
      // Management suite, with good and wrong keys.
      const mgmt: Array<[string, string, string, Parameters<Instance['request']>[2]]> = [
        ['whoami tenant', 'GET', '/api/auth/whoami', { key: tenantKey.value }],
        ['whoami user', 'GET', '/api/auth/whoami', { key: userKey.value }],
        ['whoami wrong', 'GET', '/api/auth/whoami', { key: wrongTollgate.value }],
        ['whoami x-tollgate-key', 'GET', '/api/auth/whoami', { headers: { 'x-tollgate-key': userKey.value } }],
        ['usage', 'GET', '/api/subscription/usage/canary-user', { key: tenantKey.value }],
        ['logs', 'GET', '/api/subscription/usage/canary-user/logs', { key: userKey.value }],
        ['logs csv', 'GET', '/api/subscription/usage/canary-user/logs?format=csv', { key: tenantKey.value }],
        ['dashboard', 'GET', '/api/subscription/dashboard/canary-user', { key: tenantKey.value }],
        ['alerts', 'GET', '/api/subscription/alerts/canary-user', { key: userKey.value }],
        ['status', 'GET', '/api/subscription/status/canary-user', { key: tenantKey.value }],
        ['billing', 'GET', '/api/subscription/billing/canary-user', { key: tenantKey.value }],
        ['keys', 'GET', '/api/tenant/keys', { key: tenantKey.value }],
        ['report', 'POST', '/api/usage/events', { key: tenantKey.value, body: { events: [{ id: 'canary-ev-1', user_id: 'canary-user', provider: 'openai', model: 'gpt-4', input_tokens: 5, output_tokens: 2, occurred_at: new Date().toISOString() }] } }],
        ['report with key in body', 'POST', '/api/usage/events', { key: tenantKey.value, body: { api_key: callerOwn.value, events: [{ id: 'canary-ev-2', user_id: 'canary-user', provider: 'openai', model: 'gpt-4', api_key: callerOwn.value }] } }],
        ['check', 'POST', '/api/usage/check', { key: tenantKey.value, body: { user_id: 'canary-user', provider: 'openai', model: 'gpt-4', input_tokens: 10 } }],
        ['admin with tenant key', 'GET', '/api/admin/projections', { key: tenantKey.value }],
        ['admin wrong key', 'GET', '/api/admin/projections', { key: wrongTollgate.value }],
        ['provider key bad provider', 'PUT', '/api/tenant/provider-keys/nope', { key: tenantKey.value, body: { api_key: callerOwn.value } }],
        ['provider key bad body', 'PUT', '/api/tenant/provider-keys/openai', { key: tenantKey.value, body: { api_key: 12, extra: callerOwn.value } }],
        ['metrics', 'GET', '/metrics', {}],
        ['ready', 'GET', '/ready', {}],
      ];
      for (const [what, m, p, o] of mgmt) await call(what, m, p, o);
      const docs = await call('openapi', 'GET', '/api/docs-json');
      expect(docs.status).toBe(200);
      // The provider saw its stored key (or the caller's own), never a Tollgate key.
      const upstreamHits = upstream.seen.flatMap((s, i) => scan(`upstream request ${i} ${s.url}`, `${s.url}\n${JSON.stringify(s.headers)}\n${s.body}`, [admin, master, tenantKey, userKey, wrongTollgate, wrongQuery]));
      expect(upstream.seen.some((s) => JSON.stringify(s.headers).includes(providerKeys.openai.value))).toBe(true);

      await cluster.stop(); // graceful: flushes logs and closes the stores
      const all = [...canaries, upstreamError];
      const hits: CanaryHit[] = [...upstreamHits];
      hits.push(...scan('process output (stdout+stderr)', cluster.output(), all));
      const dir = scanDir(cluster.dataDir, all); // events.db, read-models.db (+ -wal/-shm) and logs/
      hits.push(...dir.hits);
      for (const a of answers) {
        const text = `${a.r.status} ${JSON.stringify(a.r.headers)}\n${a.r.text}`;
        let found = scan(`answer to ${a.what}`, text, all);
        if (a.showsIssuedKey) found = found.filter((h) => h.canary !== 'tenant key' && h.canary !== 'user key'); // shown once, by design
        if (a.mayHoldProviderError) found = found.filter((h) => h.canary !== 'provider error body');
        hits.push(...found);
      }
      const storeFiles = dir.files.map((f) => f.slice(cluster.dataDir.length + 1));
      process.stdout.write(
        `secrets canary: ${all.length} canaries, ${answers.length} answers, ${cluster.output().length} bytes of output, files scanned: ${storeFiles.join(', ')}; hits ${hits.length}\n`,
      );
      if (hits.length) process.stdout.write(hits.slice(0, 10).map((h) => `  ${h.canary} in ${h.where}: ...${h.context}...`).join('\n') + '\n');
      expect(answers.find((a) => a.what === 'openai provider error')!.r.text).toContain(upstreamError.value);
      // Positive controls: the scanner finds a key where it is shown by design, and the calls did what they should.
      expect(scan('control', answers.find((a) => a.what === 'tenant key')!.r.text, [tenantKey]).length).toBeGreaterThan(0);
      const statusOf = (what: string) => answers.find((a) => a.what === what)!.r.status;
      process.stdout.write(`secrets canary statuses: ${answers.map((a) => `${a.what} ${a.r.status}`).join(', ')}\n`);
      for (const ok of ['openai bearer', 'openai x-tollgate-key', 'openai stream', 'openai user key', 'anthropic x-api-key', 'gemini x-goog-api-key', 'gemini ?key=', 'usage', 'logs', 'report'])
        expect([ok, statusOf(ok)]).toEqual([ok, 200]);
      for (const bad of ['openai wrong key', 'anthropic wrong key', 'gemini wrong ?key=', 'whoami wrong', 'admin wrong key']) expect([bad, statusOf(bad)]).toEqual([bad, 401]);
      expect(storeFiles).toEqual(expect.arrayContaining(['events.db', 'read-models.db']));
      expect(hits).toEqual([]);
    } finally {
      await cluster.stop();
      await upstream.stop();
      cluster.remove();
    }
  });
});
