import { randomUUID } from 'crypto';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import type { UsageRecordedData } from '../../src/metering';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';


/**
 * The isolation matrix: every user-scoped route, probed with another user's key (same tenant) and another tenant's
 * key, must answer exactly as it does for a user or alert that does not exist. Adding a route with `{user_id}` or
 * `{alert_id}` in its path without a row here fails the first test. One row per route: method, path, body.
 */
interface Row {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** The tenant backend's own routes: every user key gets 403 (its own user or not), so they probe nothing for it. */
  tenantOnly?: true;
}

const ROWS: Row[] = [
  { method: 'GET', path: '/api/subscription/status/{user_id}' },
  { method: 'GET', path: '/api/subscription/billing/{user_id}' },
  { method: 'POST', path: '/api/subscription/{user_id}/change-plan', body: { plan_id: 'basic' }, tenantOnly: true },
  { method: 'POST', path: '/api/subscription/{user_id}/cancel', body: { immediately: true }, tenantOnly: true },
  { method: 'GET', path: '/api/subscription/usage/{user_id}' },
  { method: 'GET', path: '/api/subscription/usage/{user_id}/logs' },
  { method: 'GET', path: '/api/subscription/usage/{user_id}/trends' },
  { method: 'GET', path: '/api/subscription/trends/{user_id}' },
  { method: 'GET', path: '/api/subscription/dashboard/{user_id}' },
  { method: 'GET', path: '/api/subscription/alerts/{user_id}' },
  { method: 'POST', path: '/api/subscription/alerts/{user_id}/read-all' },
  { method: 'POST', path: '/api/subscription/alerts/{alert_id}/read' },
];

/** Routes that take the user in the body: the same probes, with `{user_id}` replaced inside the body. */
const BODY_ROWS: Row[] = [{ method: 'POST', path: '/api/subscription/subscribe', body: { user_id: '{user_id}', plan_id: 'pro', billing_cycle: 'monthly' }, tenantOnly: true }];

describe('Isolation matrix: no user or tenant sees another’s data', () => {
  let t: TestApp;
  let es: EventStore;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ env: { TOLLGATE_PERIOD_CLOSE_CRON: 'off' } });
    es = t.app.get<EventStore>(EVENT_STORE);
    await t.request('PUT', '/api/admin/plans/iso', { key: TEST_ADMIN_KEY, body: { name: 'Iso', monthly_price: 3, yearly_price: 30, limits: { total_calls: 2 }, alert_thresholds: [80, 90, 100] } });
    for (const id of ['iso-a', 'iso-b']) {
      await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: id, name: id } });
      keys[id] = (await t.request('POST', `/api/admin/tenants/${id}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    }
    keys.mallory = (await t.request('POST', '/api/tenant/keys', { key: keys['iso-a'], body: { user_id: 'mallory' } })).body.key;
  });
  afterAll(async () => t?.close());

  it('has a row for every route with {user_id} or {alert_id} in its path', async () => {
    const doc = (await t.request('GET', '/api/docs-json')).body;
    const routes = Object.entries<Record<string, unknown>>(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const scoped = routes.filter((r) => /\{(user_id|alert_id)\}/.test(r));
    const covered = new Set(ROWS.map((r) => `${r.method} ${r.path}`));
    expect(scoped.filter((r) => !covered.has(r))).toEqual([]);
    // And no row for a route that no longer exists.
    expect([...covered].filter((r) => !scoped.includes(r))).toEqual([]);
  });

  /** A victim of tenant A with a subscription, usage and (over its tiny limit) alerts. */
  async function victim(): Promise<{ user: string; alertId: string | null; streamLength: number }> {
    const user = `v-${randomUUID().slice(0, 8)}`;
    expect((await t.request('POST', '/api/subscription/subscribe', { key: keys['iso-a'], body: { user_id: user, plan_id: 'iso', billing_cycle: 'monthly' } })).status).toBe(201);
    const sub = await t.app.get(SubscriptionsFacade).getEffective('iso-a', user, t.clock.now());
    for (let i = 0; i < 3; i++) {
      const id = randomUUID();
      const data: UsageRecordedData = {
        usage_id: id, tenant_id: 'iso-a', user_id: user, provider: 'openai', model: 'gpt-4', operation: 'chat', source: 'report',
        input_tokens: 100, output_tokens: 50, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0,
        cost: '0.006', price_version: 'test', price_source: 'catalog', latency_ms: 5, status: 200, streamed: false, estimated: false,
        occurred_at: t.clock.now().toISOString(), period_start: sub.period_start, period_end: sub.period_end, plan_id: sub.plan_id,
      };
      await es.append(`usage-iso-a-${id}`, [{ id, type: 'UsageRecorded', data, metadata: { occurredAt: data.occurred_at } }], 'no_stream');
    }
    await t.settle();
    const alerts = (await t.request('GET', `/api/subscription/alerts/${user}`, { key: keys['iso-a'] })).body?.alerts ?? [];
    return { user, alertId: alerts[0]?.alert_id ?? null, streamLength: (await es.readStream(`subscription-iso-a/${user}`)).length };
  }

  const fill = (row: Row, id: string) => ({
    path: row.path.replace('{user_id}', encodeURIComponent(id)).replace('{alert_id}', encodeURIComponent(id)),
    body: row.body === undefined ? undefined : JSON.parse(JSON.stringify(row.body).replace('{user_id}', id)),
  });
  const normalized = (r: { status: number; body: unknown }, ...ids: string[]) => {
    let s = JSON.stringify(r.body);
    for (const id of ids) s = s.split(id).join('<id>');
    // Fresh random ids (a new subscription's id) differ between any two answers.
    s = s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
    return { status: r.status, body: JSON.parse(s) };
  };

  describe.each([...ROWS, ...BODY_ROWS].map((r) => [`${r.method} ${r.path}`, r] as const))('%s', (_name, row) => {
    it('answers another user’s key and another tenant’s key exactly as for an absent one, and changes nothing', async () => {
      const v = await victim();
      const target = row.path.includes('{alert_id}') ? v.alertId : v.user;
      expect(target).toBeTruthy();
      const absent = row.path.includes('{alert_id}') ? `absent-${randomUUID()}` : `absent-${randomUUID().slice(0, 8)}`;

      for (const prober of ['mallory', 'iso-b']) {
        const send = (id: string) => {
          const f = fill(row, id);
          return t.request(row.method, f.path, { key: keys[prober], body: f.body ?? (row.method === 'POST' ? {} : undefined) });
        };
        const foreign = await send(target!);
        const missing = await send(absent);
        expect({ prober, ...normalized(foreign, target!, absent) }).toEqual({ prober, ...normalized(missing, target!, absent) });
        // A user-scoped route answers another user's key with 404 (and so does a tenant route for a user it never had);
        // a tenant-only route answers every user key with 403.
        const expected = prober === 'mallory' ? (row.tenantOnly ? 403 : 404) : missing.status;
        expect({ prober, status: foreign.status }).toEqual({ prober, status: expected });
      }
      // Nothing of the victim's changed.
      expect((await es.readStream(`subscription-iso-a/${v.user}`)).length).toBe(v.streamLength);
      if (v.alertId) {
        const list = (await t.request('GET', `/api/subscription/alerts/${v.user}`, { key: keys['iso-a'] })).body.alerts;
        expect(list.every((a: { is_read: boolean }) => !a.is_read)).toBe(true);
      }
      // The route itself works for the owner (so the probes above tested something real).
      const own = fill(row, target!);
      const mine = await t.request(row.method, own.path, { key: keys['iso-a'], body: own.body ?? (row.method === 'POST' ? {} : undefined) });
      expect({ route: `${row.method} ${row.path}`, status: mine.status < 400 || mine.status === 409 }).toEqual({ route: `${row.method} ${row.path}`, status: true });
    });
  });
});
