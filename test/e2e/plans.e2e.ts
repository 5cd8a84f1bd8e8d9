import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

describe('Plans over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t.close());

  it('serves the four default plans with the specification numbers, no key needed', async () => {
    const r = await t.request('GET', '/api/subscription/plans');
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.plans.map((p: any) => [p.plan_id, p]));
    expect(r.body.plans.map((p: any) => p.plan_id)).toEqual(['free', 'basic', 'pro', 'enterprise']);
    expect([byId.free.monthly_price, byId.free.yearly_price]).toEqual([0, 0]);
    expect([byId.basic.monthly_price, byId.basic.yearly_price]).toEqual([29, 290]);
    expect([byId.pro.monthly_price, byId.pro.yearly_price]).toEqual([79, 790]);
    expect([byId.enterprise.monthly_price, byId.enterprise.yearly_price]).toEqual([199, 1990]);
    expect(byId.free.limits.total_calls).toBe(1000);
    expect(byId.basic.limits.total_calls).toBe(10000);
    expect(byId.pro.limits).toMatchObject({ total_calls: 100000, gemini_calls: 5000, monthly_cost: 150 });
    expect(byId.enterprise.limits).toEqual({});
    for (const p of r.body.plans) {
      expect(p.alert_thresholds).toEqual([80, 90, 100]);
      expect(p.features.length).toBeGreaterThan(0);
      expect(Object.keys(p).sort()).toEqual(expect.arrayContaining(['plan_id', 'name', 'monthly_price', 'yearly_price', 'limits', 'alert_thresholds', 'features']));
    }
  });

  it('lets the operator change a plan\'s limits and create a new plan', async () => {
    const put = await t.request('PUT', '/api/admin/plans/basic', { key: TEST_ADMIN_KEY, body: { limits: { total_calls: 12000, openai_calls: 3 }, alert_thresholds: [50, 100] } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ plan_id: 'basic', monthly_price: 29, limits: { total_calls: 12000, openai_calls: 3 }, alert_thresholds: [50, 100], changed: true });
    const again = await t.request('PUT', '/api/admin/plans/basic', { key: TEST_ADMIN_KEY, body: { limits: { total_calls: 12000, openai_calls: 3 }, alert_thresholds: [50, 100] } });
    expect(again.body.changed).toBe(false);

    const created = await t.request('PUT', '/api/admin/plans/team', {
      key: TEST_ADMIN_KEY,
      body: { name: 'Team', monthly_price: 49.5, yearly_price: '495.00', limits: { total_calls: 50000, monthly_cost: 80.5 }, features: ['Team seats'] },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ plan_id: 'team', name: 'Team', monthly_price: 49.5, yearly_price: 495, tier: 4, alert_thresholds: [80, 90, 100] });

    const list = await t.request('GET', '/api/subscription/plans');
    const basic = list.body.plans.find((p: any) => p.plan_id === 'basic');
    expect(basic.limits).toEqual({ total_calls: 12000, openai_calls: 3 });
    expect(list.body.plans.map((p: any) => p.plan_id)).toEqual(['free', 'basic', 'pro', 'enterprise', 'team']);
  });

  it('refuses an unknown limit name and a new plan without its prices', async () => {
    const bad = await t.request('PUT', '/api/admin/plans/pro', { key: TEST_ADMIN_KEY, body: { limits: { foo_calls: 3 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('subscription_error');
    const incomplete = await t.request('PUT', '/api/admin/plans/solo', { key: TEST_ADMIN_KEY, body: { name: 'Solo' } });
    expect(incomplete.status).toBe(422);
    expect(incomplete.body.error.details.missing).toEqual(['monthly_price', 'yearly_price', 'limits']);
  });

  it('keeps the subscription_plans read model (the specification table) in step', async () => {
    await t.settle();
    const { READ_STORE } = await import('../../libs/read-store/port');
    const plans = t.app.get(READ_STORE).collection('subscription_plans');
    expect(await plans.count()).toBe(5);
    expect(await plans.get('basic')).toMatchObject({ plan_id: 'basic', monthly_price: '29', limits: { total_calls: 12000, openai_calls: 3 }, alert_thresholds: [50, 100], active: true });
    expect(await plans.get('pro')).toMatchObject({ limits: { total_calls: 100000, gemini_calls: 5000, monthly_cost: 150 } });
  });

  it('retires a plan: it leaves the public list', async () => {
    const r = await t.request('DELETE', '/api/admin/plans/team', { key: TEST_ADMIN_KEY });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ plan_id: 'team', active: false });
    const list = await t.request('GET', '/api/subscription/plans');
    expect(list.body.plans.map((p: any) => p.plan_id)).not.toContain('team');
  });
});

describe('Default plans across restarts', () => {
  it('are written once: a second start on the same data writes nothing and keeps the operator\'s change', async () => {
    const first = await startTestApp();
    await first.request('PUT', '/api/admin/plans/free', { key: TEST_ADMIN_KEY, body: { limits: { total_calls: 5 } } });
    const { dataDir } = first;
    await first.close();

    const second = await startTestApp({ dataDir });
    try {
      const r = await second.request('GET', '/api/subscription/plans');
      expect(r.body.plans.find((p: any) => p.plan_id === 'free').limits).toEqual({ total_calls: 5 });
      expect(r.body.plans).toHaveLength(4);
      const { EVENT_STORE } = await import('../../libs/event-store/port');
      const store = second.app.get(EVENT_STORE);
      const defined = await store.readAll({ types: ['PlanDefined'] });
      expect(defined.map((e: any) => e.data.plan_id).sort()).toEqual(['basic', 'enterprise', 'free', 'pro']);
      const seeds = await store.readAll({ types: ['PriceSet'] });
      expect(seeds.filter((e: any) => e.streamId === 'pricecatalog-seed').length).toBeGreaterThan(200);
      expect(new Set(seeds.map((e: any) => e.id)).size).toBe(seeds.length);
    } finally {
      await second.close();
    }
  });
});
