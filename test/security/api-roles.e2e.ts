import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/**
 * A user key is what a tenant hands to its end user, so its holder is assumed hostile. It reads its own data and asks
 * whether a call would fit; subscribing, changing plan, cancelling and reporting usage are the tenant backend's.
 */
describe('Roles: a user key cannot do what only the tenant backend may', () => {
  let t: TestApp;
  let es: EventStore;
  let tenantKey: string;
  let userKey: string;
  const TENANT = 'roles-shop';
  const USER = 'eve';

  beforeAll(async () => {
    t = await startTestApp({ env: { TOLLGATE_PERIOD_CLOSE_CRON: 'off' } });
    es = t.app.get<EventStore>(EVENT_STORE);
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: TENANT } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    userKey = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: USER } })).body.key;
    expect((await t.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: USER, plan_id: 'basic', billing_cycle: 'monthly' } })).status).toBe(201);
    await t.settle();
  });
  afterAll(async () => t?.close());

  const head = () => es.headPosition();
  const status = async () => (await t.request('GET', `/api/subscription/status/${USER}`, { key: tenantKey })).body;
  const expectForbidden = (r: { status: number; body: any }) => {
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: { code: 'forbidden', message: expect.any(String), details: expect.anything() } });
  };

  it('refuses a user key that changes its own plan to Enterprise, and the plan stays', async () => {
    const before = await status();
    const at = await head();
    expectForbidden(await t.request('POST', `/api/subscription/${USER}/change-plan`, { key: userKey, body: { plan_id: 'enterprise' } }));
    expect(await head()).toBe(at);
    await t.settle();
    const after = await status();
    expect(after.plan_id ?? after.plan?.plan_id).toBe(before.plan_id ?? before.plan?.plan_id);
    expect(JSON.stringify(after)).not.toContain('enterprise');
  });

  it('refuses a user key that cancels and re-subscribes to restart its period with empty counters', async () => {
    const before = await status();
    const at = await head();
    expectForbidden(await t.request('POST', `/api/subscription/${USER}/cancel`, { key: userKey, body: { immediately: true } }));
    expectForbidden(await t.request('POST', '/api/subscription/subscribe', { key: userKey, body: { user_id: USER, plan_id: 'basic', billing_cycle: 'monthly' } }));
    expect(await head()).toBe(at);
    expect(await status()).toEqual(before);
  });

  it('refuses a user key that reports usage for itself (it could claim its calls cost nothing), and records nothing', async () => {
    const at = await head();
    const r = await t.request('POST', '/api/usage/events', {
      key: userKey,
      body: { events: [{ id: 'eve-1', user_id: USER, provider: 'openai', model: 'gpt-4', input_tokens: 0, output_tokens: 0, occurred_at: t.clock.now().toISOString() }] },
    });
    expectForbidden(r);
    expect(await head()).toBe(at);
    await t.settle();
    expect((await t.request('GET', `/api/subscription/usage/${USER}/logs`, { key: tenantKey })).body.items).toEqual([]);
  });

  it('still lets a user key read its own data and ask whether a call fits', async () => {
    for (const p of [`usage/${USER}`, `usage/${USER}/logs`, `usage/${USER}/trends`, `dashboard/${USER}`, `status/${USER}`, `billing/${USER}`, `alerts/${USER}`])
      expect({ p, status: (await t.request('GET', `/api/subscription/${p}`, { key: userKey })).status }).toEqual({ p, status: 200 });
    expect((await t.request('POST', `/api/subscription/alerts/${USER}/read-all`, { key: userKey })).status).toBeLessThan(300);
    const check = await t.request('POST', '/api/usage/check', { key: userKey, body: { user_id: USER, provider: 'openai', model: 'gpt-4' } });
    expect(check.status).toBe(200);
    expect(check.body.allowed).toBe(true);
  });

  it('lets the tenant key do what the user key may not', async () => {
    expect((await t.request('POST', `/api/subscription/${USER}/change-plan`, { key: tenantKey, body: { plan_id: 'pro' } })).status).toBe(200);
    const r = await t.request('POST', '/api/usage/events', {
      key: tenantKey,
      body: { events: [{ id: 'backend-1', user_id: USER, provider: 'openai', model: 'gpt-4', input_tokens: 10, output_tokens: 5, occurred_at: t.clock.now().toISOString() }] },
    });
    expect(r.body.results).toEqual([expect.objectContaining({ id: 'backend-1', status: 'accepted' })]);
  });
});
