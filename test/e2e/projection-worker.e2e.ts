import { LazyProjectionRunner, PROJECTION_RUNNER } from '../../src/shell';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/**
 * The server's default: projections on a worker thread of their own (TOLLGATE_PROJECTIONS=worker), the HTTP thread
 * only admitting, forwarding and appending. Read models, the HTTP thread's caches that projections keep current,
 * status, catch-up and rebuilds behave as with projections inline.
 */
describe('Projections on the projection worker thread', () => {
  let t: TestApp;
  let tenantKey: string;
  const TENANT = 'shop-worker';
  const at = (minutesAgo: number) => new Date(t.clock.now().getTime() - minutesAgo * 60_000).toISOString();
  const report = (ids: string[], user: string) =>
    t.request('POST', '/api/usage/events', {
      key: tenantKey,
      body: { events: ids.map((id) => ({ id, user_id: user, provider: 'openai', model: 'gpt-4o-mini', input_tokens: 1000, output_tokens: 500, occurred_at: at(5) })) },
    });

  beforeAll(async () => {
    t = await startTestApp({ env: { TOLLGATE_PROJECTIONS: 'worker' } });
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: TENANT, name: 'Worker shop', default_plan_id: 'pro' } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${TENANT}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('runs every projection on the worker and reports their status and lag over HTTP', async () => {
    const runner = t.app.get<LazyProjectionRunner>(PROJECTION_RUNNER);
    expect(runner.inWorker).toBe(true);
    await t.settle();
    const status = (await t.request('GET', '/api/admin/projections', { key: TEST_ADMIN_KEY })).body.projections;
    expect(status.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['usage-summaries', 'api-usage-logs', 'tenants', 'api_keys']));
    expect(status.every((p: { running: boolean; lag: number; error: string | null }) => p.running && p.lag === 0 && p.error === null)).toBe(true);
    const ready = await t.request('GET', '/ready');
    expect(ready.status).toBe(200);
  });

  it('keeps the read models: reported usage shows in the period usage, the log and the dashboard', async () => {
    expect((await report(['w-1', 'w-2', 'w-3'], 'ana')).status).toBe(200);
    await t.settle();
    const usage = (await t.request('GET', '/api/subscription/usage/ana', { key: tenantKey })).body;
    expect(usage.current_usage.total_calls).toBe(3);
    expect((await t.request('GET', '/api/subscription/usage/ana/logs', { key: tenantKey })).body.items).toHaveLength(3);
    const first = (await t.request('GET', '/api/subscription/dashboard/ana', { key: tenantKey })).body;
    expect(first.current_usage.total_calls).toBe(3);

    // The dashboard's cache on the HTTP thread learns of the worker's commits (afterCommit is forwarded).
    expect((await report(['w-4'], 'ana')).status).toBe(200);
    await t.settle();
    const second = (await t.request('GET', '/api/subscription/dashboard/ana', { key: tenantKey })).body;
    expect(second.current_usage.total_calls).toBe(4);
  });

  it('rebuilds a projection on the worker to the same state', async () => {
    const before = (await t.request('GET', '/api/subscription/usage/ana', { key: tenantKey })).body.current_usage;
    const rebuilt = await t.request('POST', '/api/admin/projections/usage-summaries/rebuild', { key: TEST_ADMIN_KEY });
    expect(rebuilt.status).toBe(201);
    expect(rebuilt.body.rebuilt[0]).toMatchObject({ name: 'usage-summaries', events: expect.any(Number) });
    await t.settle();
    const after = (await t.request('GET', '/api/subscription/usage/ana', { key: tenantKey })).body.current_usage;
    expect(after).toEqual(before);
    expect((await t.request('POST', '/api/admin/projections/nope/rebuild', { key: TEST_ADMIN_KEY })).status).toBe(404);
  });

  it('serves a key issued here, records its last use through the worker, and refuses it once revoked', async () => {
    const issued = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'bo' } })).body;
    expect((await t.request('GET', '/api/auth/whoami', { key: issued.key })).body).toMatchObject({ role: 'user', user_id: 'bo' });
    // Its last use is written by the worker (the HTTP thread never waits for SQLite's write lock on the hot path).
    let listed: { last_used_at: string | null } | undefined;
    for (let i = 0; i < 40 && !listed?.last_used_at; i++) {
      await new Promise((r) => setTimeout(r, 50));
      listed = (await t.request('GET', '/api/tenant/keys', { key: tenantKey })).body.keys.find((k: { key_id: string }) => k.key_id === issued.key_id);
    }
    expect(listed?.last_used_at).toBe(t.clock.now().toISOString());
    expect((await t.request('DELETE', `/api/tenant/keys/${issued.key_id}`, { key: tenantKey })).status).toBeLessThan(300);
    await t.settle();
    expect((await t.request('GET', '/api/auth/whoami', { key: issued.key })).status).toBe(401);
  });
});
