import { MeteringFacade } from '../../src/metering';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Enforcement (admit / record / release on the real app), the check endpoint and the current usage view. */
describe('Metering: limits enforced from memory, the check endpoint and current usage', () => {
  let t: TestApp;
  let tenantKey: string;
  let metering: MeteringFacade;
  const TENANT = 'shop-meter';
  const now = () => t.clock.now();
  const report = (events: unknown[]) => t.request('POST', '/api/usage/events', { key: tenantKey, body: { events } });
  const openaiEvents = (user: string, n: number, prefix = user) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, user_id: user, provider: 'openai', model: 'gpt-4o', input_tokens: 100, output_tokens: 10, occurred_at: now().toISOString(), latency_ms: 50 + i }));
  const subscribe = async (user: string, plan: string) => {
    const r = await t.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: user, plan_id: plan, billing_cycle: 'monthly' } });
    expect(r.status).toBeLessThan(300);
  };

  beforeAll(async () => {
    t = await startTestApp();
    metering = t.app.get(MeteringFacade);
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: 'Meter shop', default_plan_id: 'enterprise' } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    const plan = await t.request('PUT', '/api/admin/plans/tg-tiny', {
      key: TEST_ADMIN_KEY,
      body: { name: 'Tiny', monthly_price: 1, yearly_price: 10, limits: { openai_calls: 10, total_tokens: 100_000, monthly_cost: 5 } },
    });
    expect(plan.status).toBeLessThan(300);
    await t.settle();
  });
  afterAll(async () => t.close());

  it('admits exactly the remaining number of 200 concurrent calls, and logs every refusal', async () => {
    await subscribe('u-conc', 'tg-tiny');
    expect((await report(openaiEvents('u-conc', 3))).body.accepted).toBe(3);
    const admissions = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        metering.admit({ tenantId: TENANT, userId: 'u-conc', provider: 'openai', model: 'gpt-4o', inputTokens: 20, at: now(), requestId: `conc-${i}`, source: 'gateway' }),
      ),
    );
    const admitted = admissions.filter((a) => a.ok);
    expect(admitted).toHaveLength(7);
    const refusal = admissions.find((a) => !a.ok);
    expect(refusal).toEqual({
      ok: false,
      refusal: expect.objectContaining({ limit: 'openai_calls', limit_value: 10, used: 10, requested: 1, message: expect.stringMatching(/^Usage limit reached: openai_calls is 10 per period and 10 are used; the period ends /) }),
    });
    // Record the admitted calls (one of them twice: a retry counts once).
    for (const a of admitted) {
      if (!a.ok) continue;
      const usage = { usage_id: a.reservation.id, provider: 'openai', model: 'gpt-4o', operation: 'chat', input_tokens: 20, output_tokens: 5, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0, latency_ms: 30, status: 200, streamed: false, estimated: false, occurred_at: now().toISOString() };
      await metering.record(a.reservation, usage);
      if (a === admitted[0]) await metering.record(a.reservation, usage);
    }
    await t.settle();
    const u = await t.request('GET', '/api/subscription/usage/u-conc', { key: tenantKey });
    expect(u.body.current_usage).toEqual(expect.objectContaining({ total_calls: 10, refused_calls: 193, usage_status: 'limit_reached' }));
    expect(u.body.usage_percentages.openai_calls).toBe(100);
    const refusedLog = await t.request('GET', '/api/subscription/usage/u-conc/logs?status=refused&limit=1000', { key: tenantKey });
    expect(refusedLog.body.items).toHaveLength(193);
    expect(refusedLog.body.items[0]).toEqual(expect.objectContaining({ kind: 'refusal', status: 429, limit: 'openai_calls', provider: 'openai', cost: 0 }));
    const period = await metering.getPeriodUsage(TENANT, 'u-conc', now());
    expect(period).toEqual(expect.objectContaining({ total_calls: 10, refused_calls: 193, total_tokens: 3 * 110 + 7 * 25 }));
  });

  it('frees the reservation of a call that is released, not recorded', async () => {
    await subscribe('u-release', 'tg-tiny');
    await report(openaiEvents('u-release', 9));
    const first = await metering.admit({ tenantId: TENANT, userId: 'u-release', provider: 'openai', model: 'gpt-4o', inputTokens: 0, at: now(), requestId: 'rel-1', source: 'gateway' });
    expect(first.ok).toBe(true);
    const second = await metering.admit({ tenantId: TENANT, userId: 'u-release', provider: 'openai', model: 'gpt-4o', inputTokens: 0, at: now(), requestId: 'rel-2', source: 'gateway' });
    expect(second.ok).toBe(false);
    if (first.ok) metering.release(first.reservation);
    const third = await metering.admit({ tenantId: TENANT, userId: 'u-release', provider: 'openai', model: 'gpt-4o', inputTokens: 0, at: now(), requestId: 'rel-3', source: 'gateway' });
    expect(third.ok).toBe(true);
    if (third.ok) metering.release(third.reservation);
  });

  it('answers POST /api/usage/check with the headroom, or 429 with the gateway message, recording nothing', async () => {
    await subscribe('u-check', 'tg-tiny');
    await report(openaiEvents('u-check', 8));
    const ok = await t.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-check', provider: 'openai', model: 'gpt-4o', input_tokens: 1000 } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(
      expect.objectContaining({ allowed: true, user_id: 'u-check', provider: 'openai', plan_id: 'tg-tiny', remaining: expect.objectContaining({ openai_calls: 1, total_tokens: 100_000 - 8 * 110 - 1000 }) }),
    );
    await report(openaiEvents('u-check', 2, 'u-check-more'));
    await t.settle();
    const logsBefore = (await t.request('GET', '/api/subscription/usage/u-check/logs?limit=1000', { key: tenantKey })).body.items.length;
    const refused = await t.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-check', provider: 'openai', model: 'gpt-4o' } });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toEqual({
      code: 'usage_limit_exceeded',
      message: expect.stringMatching(/^Usage limit reached: openai_calls is 10 per period and 10 are used; the period ends \d{4}-\d\d-\d\dT/),
      details: expect.objectContaining({ limit: 'openai_calls', limit_value: 10, used: 10, requested: 1 }),
    });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another provider still fits: the openai limit does not apply to it.
    expect((await t.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-check', provider: 'gemini' } })).status).toBe(200);
    await t.settle();
    expect((await t.request('GET', '/api/subscription/usage/u-check/logs?limit=1000', { key: tenantKey })).body.items.length).toBe(logsBefore);
    expect((await t.request('POST', '/api/usage/check', { key: tenantKey, body: { user_id: 'u-check', provider: 'acme' } })).status).toBe(422);
  });

  it('serves the current period: totals, provider breakdown, limits with percentages, response times and error rates', async () => {
    await subscribe('u-view', 'tg-tiny');
    const events = [
      ...openaiEvents('u-view', 4),
      { id: 'v-err', user_id: 'u-view', provider: 'openai', model: 'gpt-4o', input_tokens: 100, output_tokens: 0, status: 500, occurred_at: now().toISOString(), latency_ms: 900 },
      { id: 'v-search', user_id: 'u-view', provider: 'tavily', model: 'search', units: 3, occurred_at: now().toISOString(), latency_ms: 400 },
    ];
    expect((await report(events)).body.accepted).toBe(6);
    await t.settle();
    const r = await t.request('GET', '/api/subscription/usage/u-view', { key: tenantKey });
    expect(r.status).toBe(200);
    const b = r.body;
    expect(b).toEqual(
      expect.objectContaining({
        user_id: 'u-view',
        plan_id: 'tg-tiny',
        period_start: expect.any(String),
        period_end: expect.any(String),
        limits: { plan_name: 'Tiny', limits: { openai_calls: 10, total_tokens: 100_000, monthly_cost: 5 } },
      }),
    );
    expect(new Date(b.period_start) <= now() && now() < new Date(b.period_end)).toBe(true);
    expect(b.current_usage).toEqual(
      expect.objectContaining({
        total_calls: 6,
        total_tokens: 4 * 110 + 100,
        refused_calls: 0,
        usage_status: 'active',
        provider_breakdown: {
          openai: expect.objectContaining({ calls: 5, tokens: 540, errors: 1 }),
          tavily: expect.objectContaining({ calls: 1, tokens: 0, units: 3 }),
        },
      }),
    );
    expect(typeof b.current_usage.total_cost).toBe('number');
    expect(b.usage_percentages).toEqual(expect.objectContaining({ openai_calls: 50, total_tokens: 0.54 }));
    expect(b.usage_percentages.cost).toBe(b.usage_percentages.monthly_cost);
    expect(b.performance.providers.openai).toEqual({ calls: 5, errors: 1, error_rate: 20, response_time_ms: { p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) } });
    expect(b.performance.providers.openai.response_time_ms.p99).toBeGreaterThan(750);
    expect(b.performance.providers.tavily.response_time_ms.p50).toBeGreaterThan(300);
  });

  it('shows a user only its own usage, and the operator any user with ?tenant_id=', async () => {
    const userKey = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'u-view' } })).body.key;
    expect((await t.request('GET', '/api/subscription/usage/u-view', { key: userKey })).status).toBe(200);
    expect((await t.request('GET', '/api/subscription/usage/u-check', { key: userKey })).status).toBe(404);
    expect((await t.request('GET', `/api/subscription/usage/u-view?tenant_id=${TENANT}`, { key: TEST_ADMIN_KEY })).body.current_usage.total_calls).toBe(6);
  });
});
