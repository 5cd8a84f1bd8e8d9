import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Reporting usage of calls the application made itself: POST /api/usage/events, and the log it feeds. */
describe('Reporting usage (POST /api/usage/events) and the usage log', () => {
  let t: TestApp;
  let tenantKey: string;
  const TENANT = 'shop-report';
  const minutesAgo = (m: number) => new Date(t.clock.now().getTime() - m * 60_000).toISOString();
  const ev = (id: string, user: string, over: Record<string, unknown> = {}) => ({
    id,
    user_id: user,
    provider: 'openai',
    model: 'tg-exact-model',
    input_tokens: 1,
    output_tokens: 1,
    occurred_at: minutesAgo(5),
    latency_ms: 120,
    ...over,
  });
  const report = (events: unknown[], key = tenantKey) => t.request('POST', '/api/usage/events', { key, body: { events } });
  const usage = async (user: string, key = tenantKey) => {
    await t.settle();
    return t.request('GET', `/api/subscription/usage/${user}`, { key });
  };

  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: 'Report shop', default_plan_id: 'enterprise' } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    // A price of our own, so the expected costs follow from it: $0.3 input and $0.7 output per 1M tokens from 2025-01-01,
    // then $0.6 input from 2025-03-08.
    const price = (prices: Record<string, string>, effective_from: string) =>
      t.request('PUT', '/api/admin/pricing/openai/tg-exact-model', { key: TEST_ADMIN_KEY, body: { prices, effective_from } });
    expect((await price({ input_mtok: '0.3', output_mtok: '0.7' }, '2025-01-01T00:00:00Z')).status).toBe(200);
    expect((await price({ input_mtok: '0.6', output_mtok: '0.7' }, '2025-03-08T00:00:00Z')).status).toBe(200);
    await t.settle();
  });
  afterAll(async () => t.close());

  it('accepts events with their exact cost, at the price in effect when each happened', async () => {
    const r = await report([
      ev('price-1', 'u-price', { occurred_at: '2025-03-07T23:59:59Z', input_tokens: 1000, output_tokens: 1000 }),
      ev('price-2', 'u-price', { occurred_at: '2025-03-08T00:00:00Z', input_tokens: 1000, output_tokens: 1000 }),
      ev('price-3', 'u-price', { input_tokens: 1, output_tokens: 0 }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { id: 'price-1', status: 'accepted', cost: 0.001, cost_exact: '0.001' },
      { id: 'price-2', status: 'accepted', cost: 0.0013, cost_exact: '0.0013' },
      { id: 'price-3', status: 'accepted', cost: 0.000001, cost_exact: '0.0000006' },
    ]);
  });

  it('answers each event on its own: accepted, duplicate, conflict and rejected side by side', async () => {
    const first = await report([ev('mix-1', 'u-mix'), ev('mix-2', 'u-mix', { output_tokens: 10 })]);
    expect(first.body.results.map((x: { status: string }) => x.status)).toEqual(['accepted', 'accepted']);
    const r = await report([
      ev('mix-1', 'u-mix'), // the same id and payload: a duplicate
      ev('mix-2', 'u-mix', { output_tokens: 11 }), // the same id, another payload: a conflict
      ev('mix-3', 'u-mix', { provider: 'acme' }),
      ev('mix-4', 'u-mix', { input_tokens: -5 }),
      { user_id: 'u-mix' },
      ev('mix-5', 'u-mix'),
    ]);
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { id: 'mix-1', status: 'duplicate', cost: 0.000001, cost_exact: '0.0000013' },
      { id: 'mix-2', status: 'conflict', reason: expect.stringContaining('different payload') },
      { id: 'mix-3', status: 'rejected', reason: expect.stringContaining('unknown provider "acme"') },
      { id: 'mix-4', status: 'rejected', reason: 'input_tokens must be a whole number >= 0' },
      { id: null, status: 'rejected', reason: expect.stringContaining('id must be') },
      { id: 'mix-5', status: 'accepted', cost: 0.000001, cost_exact: '0.0000013' },
    ]);
    expect(r.body).toEqual(expect.objectContaining({ accepted: 1, duplicate: 1, conflict: 1, rejected: 3 }));
    const u = await usage('u-mix');
    expect(u.body.current_usage.total_calls).toBe(3);
  });

  it('counts an event reported twice (in one batch or in two) once', async () => {
    const batch = [ev('dup-1', 'u-dup'), ev('dup-1', 'u-dup'), ev('dup-2', 'u-dup')];
    const a = await report(batch);
    expect(a.body.results.map((x: { status: string }) => x.status)).toEqual(['accepted', 'duplicate', 'accepted']);
    const b = await report(batch);
    expect(b.body.results.map((x: { status: string }) => x.status)).toEqual(['duplicate', 'duplicate', 'duplicate']);
    const u = await usage('u-dup');
    expect(u.body.current_usage).toEqual(expect.objectContaining({ total_calls: 2, total_tokens: 4, total_cost_exact: '0.0000026' }));
    const logs = await t.request('GET', '/api/subscription/usage/u-dup/logs', { key: tenantKey });
    expect(logs.body.items.map((i: { id: string }) => i.id).sort()).toEqual(['dup-1', 'dup-2']);
  });

  it('answers 409 when every event conflicts, and 422 when every event is rejected or the batch is malformed', async () => {
    await report([ev('c-1', 'u-c')]);
    const conflict = await report([ev('c-1', 'u-c', { model: 'other' })]);
    expect(conflict.status).toBe(409);
    expect(conflict.body).toEqual(expect.objectContaining({ error: expect.objectContaining({ code: 'conflict' }), results: [expect.objectContaining({ id: 'c-1', status: 'conflict' })] }));
    const rejected = await report([ev('r-1', 'u-c', { occurred_at: 'soon' })]);
    expect(rejected.status).toBe(422);
    expect(rejected.body.results).toEqual([{ id: 'r-1', status: 'rejected', reason: 'occurred_at must be an ISO 8601 time' }]);
    expect((await t.request('POST', '/api/usage/events', { key: tenantKey, body: { nothing: [] } })).body.error.code).toBe('validation_failed');
    const tooMany = await report(Array.from({ length: 1001 }, (_, i) => ev(`big-${i}`, 'u-c')));
    expect(tooMany.status).toBe(422);
  });

  it('sums costs exactly: seven events of $0.0000013 make $0.0000091', async () => {
    const r = await report(Array.from({ length: 7 }, (_, i) => ev(`sum-${i}`, 'u-sum')));
    expect(r.body.accepted).toBe(7);
    const u = await usage('u-sum');
    expect(u.body.current_usage.total_cost_exact).toBe('0.0000091');
    expect(u.body.current_usage.total_cost).toBe(0.000009);
    expect(u.body.current_usage.provider_breakdown.openai).toEqual(expect.objectContaining({ calls: 7, tokens: 14, cost_exact: '0.0000091' }));
  });

  it('refuses a report from a user key (reporting is the tenant backend’s) and lets it read only its own usage', async () => {
    const userKey = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'u-self' } })).body.key;
    expect(userKey).toMatch(/^tg_/);
    const refused = await report([ev('self-0', 'u-self')], userKey);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await report([ev('self-1', 'u-self')])).body.results).toEqual([{ id: 'self-1', status: 'accepted', cost: expect.any(Number), cost_exact: '0.0000013' }]);
    await t.settle();
    expect((await t.request('GET', '/api/subscription/usage/u-self', { key: userKey })).status).toBe(200);
    expect((await t.request('GET', '/api/subscription/usage/u-self/logs', { key: userKey })).body.items).toHaveLength(1);
    await report([ev('other-2', 'u-other')]);
    await t.settle();
    for (const p of ['/api/subscription/usage/u-other', '/api/subscription/usage/u-other/logs', '/api/subscription/usage/u-other/logs?format=csv']) {
      const denied = await t.request('GET', p, { key: userKey });
      expect(denied.status).toBe(404);
      expect(denied.body.error.code).toBe('not_found');
    }
    const check = await t.request('POST', '/api/usage/check', { key: userKey, body: { user_id: 'u-other', provider: 'openai' } });
    expect(check.status).toBe(404);
  });

  describe('the usage log', () => {
    beforeAll(async () => {
      const r = await report([
        ev('log-1', 'u-log', { occurred_at: minutesAgo(50) }),
        ev('log-2', 'u-log', { occurred_at: minutesAgo(40), provider: 'tavily', model: 'search', input_tokens: 0, output_tokens: 0, units: 2 }),
        ev('log-3', 'u-log', { occurred_at: minutesAgo(30), status: 500 }),
        ev('log-4', 'u-log', { occurred_at: minutesAgo(20), model: 'tg, "quoted" model' }),
        ev('log-5', 'u-log', { occurred_at: minutesAgo(10), estimated: true }),
      ]);
      expect(r.body.accepted).toBe(5);
      await t.settle();
    });

    it('lists calls newest first with counts, cost and timing, and pages with a cursor', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const r = await t.request('GET', `/api/subscription/usage/u-log/logs${q}`, { key: tenantKey });
        expect(r.status).toBe(200);
        expect(r.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...r.body.items.map((i: { id: string }) => i.id));
        cursor = r.body.next_cursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual(['log-5', 'log-4', 'log-3', 'log-2', 'log-1']);
      const first = (await t.request('GET', '/api/subscription/usage/u-log/logs?limit=1', { key: tenantKey })).body.items[0];
      expect(first).toEqual(
        expect.objectContaining({
          id: 'log-5',
          provider: 'openai',
          model: 'tg-exact-model',
          input_tokens: 1,
          output_tokens: 1,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          reasoning_tokens: 0,
          units: 0,
          cost: 0.000001,
          cost_exact: '0.0000013',
          price_source: 'catalog',
          latency_ms: 120,
          status: 200,
          estimated: true,
          occurred_at: minutesAgo(10),
        }),
      );
      expect(JSON.stringify(first)).not.toMatch(/prompt|messages|content/);
    });

    it('filters by provider, model, status and time', async () => {
      const ids = async (q: string) => (await t.request('GET', `/api/subscription/usage/u-log/logs?${q}`, { key: tenantKey })).body.items.map((i: { id: string }) => i.id);
      expect(await ids('provider=tavily')).toEqual(['log-2']);
      expect(await ids(`model=${encodeURIComponent('tg, "quoted" model')}`)).toEqual(['log-4']);
      expect(await ids('status=error')).toEqual(['log-3']);
      expect(await ids('status=500')).toEqual(['log-3']);
      expect(await ids(`from=${encodeURIComponent(minutesAgo(35))}&to=${encodeURIComponent(minutesAgo(15))}`)).toEqual(['log-4', 'log-3']);
      expect((await t.request('GET', '/api/subscription/usage/u-log/logs?limit=0', { key: tenantKey })).status).toBe(422);
    });

    it('exports the log as CSV', async () => {
      const r = await t.request('GET', '/api/subscription/usage/u-log/logs?format=csv', { key: tenantKey });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/csv');
      expect(r.headers.get('content-disposition')).toContain('usage-u-log.csv');
      const lines = r.text.trim().split('\r\n');
      expect(lines[0]).toBe(
        'id,occurred_at,kind,source,provider,model,operation,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,reasoning_tokens,units,cost_exact,price_source,latency_ms,status,outcome,estimated,streamed,limit',
      );
      expect(lines).toHaveLength(6);
      expect(lines[1].startsWith(`log-5,${minutesAgo(10)},call,report,openai,tg-exact-model,chat,1,1,0,0,0,0,0.0000013,catalog,120,200,ok,true,false,`)).toBe(true);
      expect(lines[2]).toContain(',"tg, ""quoted"" model",');
    });
  });
});
