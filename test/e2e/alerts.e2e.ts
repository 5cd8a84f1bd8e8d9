import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ProjectionRunner } from '../../libs/projections';
import { SqliteReadStore } from '../../libs/read-store/sqlite/sqlite-read-store';
import { RaiseAlertHandler } from '../../src/alerts/application/raise-alert.handler';
import { ThresholdWatcherProcess } from '../../src/alerts/application/threshold-watcher.process';
import { PlansFacade } from '../../src/plans';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { RenewalNoticeJob } from '../../src/alerts';
import { UsageRecordedData, usageStreamId } from '../../src/metering';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Alerts end to end: thresholds of a small plan, reported usage, replays, a second instance, read state, renewals. */
describe('Usage alerts', () => {
  let t: TestApp;
  let tenantKey: string;
  const tenant = 'shop-alerts';

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z' });
    const plan = await t.request('PUT', '/api/admin/plans/tiny', {
      key: TEST_ADMIN_KEY,
      body: { name: 'Tiny', monthly_price: 1, yearly_price: 10, limits: { total_calls: 20, openai_calls: 10, monthly_cost: 1 }, alert_thresholds: [80, 90, 100] },
    });
    expect(plan.status).toBeLessThan(300);
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: tenant, name: 'Alerts shop', default_plan_id: 'tiny' } })).status).toBe(201);
    const k = await t.request('POST', `/api/admin/tenants/${tenant}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } });
    tenantKey = k.body.key;
  });
  afterAll(async () => t?.close());

  const report = (user: string, id: string, provider = 'openai', extra: Record<string, unknown> = {}) =>
    t.request('POST', '/api/usage/events', {
      key: tenantKey,
      body: { events: [{ id, user_id: user, provider, model: provider === 'openai' ? 'gpt-4' : 'gemini-2.5-flash', input_tokens: 10, output_tokens: 5, occurred_at: t.clock.now().toISOString(), ...extra }] },
    });

  /** Appends recorded calls straight to the log, concurrently (as metering would record them). */
  async function appendUsage(user: string, provider: string, n: number) {
    const store = t.app.get<EventStore>(EVENT_STORE);
    const sub = await t.app.get(SubscriptionsFacade).getEffective(tenant, user, t.clock.now());
    await Promise.all(
      Array.from({ length: n }, () => {
        const id = randomUUID();
        const data: UsageRecordedData = {
          usage_id: id, tenant_id: tenant, user_id: user, provider, model: 'some-model', operation: 'chat', source: 'report',
          input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0, cost: '0.000001',
          price_version: 'test', price_source: 'catalog', latency_ms: null, status: 200, streamed: false, estimated: false,
          occurred_at: t.clock.now().toISOString(), period_start: sub.period_start, period_end: sub.period_end, plan_id: sub.plan_id,
        };
        return store.append(usageStreamId(tenant, id, data.source), [{ id: randomUUID(), type: 'UsageRecorded', data, metadata: { occurredAt: data.occurred_at } }], 'no_stream');
      }),
    );
  }

  async function alertEvents(user: string) {
    const store = t.app.get<EventStore>(EVENT_STORE);
    const all = await store.readAll({ maxCount: 1_000_000 });
    return all.filter((e) => e.type === 'UsageAlertRaised' && (e.data as { user_id: string }).user_id === user);
  }

  it('fire once per limit and threshold when many calls cross them at the same moment', async () => {
    // 12 openai calls at once: openai_calls (10) crosses 80, 90 and 100 percent; total_calls (20) none.
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => report('alice', `burst-${i}`)));
    const accepted = results.filter((r) => r.status === 200 && r.body.results[0].status === 'accepted').length;
    // Reported calls already happened: they are recorded (at least the 10 that fit openai_calls).
    expect(accepted).toBeGreaterThanOrEqual(10);
    await t.settle();
    await t.settle();
    const events = await alertEvents('alice');
    const keys = events.map((e) => `${(e.data as any).limit}:${(e.data as any).threshold}`).sort();
    expect(keys).toEqual(['openai_calls:100', 'openai_calls:80', 'openai_calls:90']);

    const list = await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey });
    expect(list.status).toBe(200);
    expect(list.body.alerts).toHaveLength(keys.length);
    const at80 = list.body.alerts.find((a: any) => a.threshold === 80);
    expect(at80).toEqual({
      alert_id: expect.any(String),
      limit: 'openai_calls',
      threshold: 80,
      severity: 'info',
      title: 'API Usage Notice - OpenAI',
      message: 'You have used 8 of 10 OpenAI API calls',
      is_read: false,
      created_at: expect.any(String),
      kind: 'usage',
      value: 8,
      limit_value: 10,
      period_start: expect.any(String),
      period_end: expect.any(String),
      read_at: null,
    });
    const at90 = list.body.alerts.find((a: any) => a.threshold === 90);
    expect(at90).toMatchObject({ severity: 'warning', title: 'API Usage Warning - OpenAI', message: 'You have used 9 of 10 OpenAI API calls' });
    const at100 = list.body.alerts.find((a: any) => a.threshold === 100);
    expect(at100).toMatchObject({ severity: 'critical', title: 'API Usage Limit Reached - OpenAI', message: 'You have used 10 of 10 OpenAI API calls' });
  });

  it('fire nothing again after a full replay of the watcher and the read model', async () => {
    const before = (await alertEvents('alice')).length;
    const listBefore = (await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey })).body.alerts;
    for (const name of ['alert-threshold-watcher', 'usage-alerts']) {
      const r = await t.request('POST', `/api/admin/projections/${name}/rebuild`, { key: TEST_ADMIN_KEY });
      expect(r.status).toBeLessThan(300);
    }
    await t.settle();
    expect((await alertEvents('alice')).length).toBe(before);
    const listAfter = (await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey })).body.alerts;
    expect(listAfter).toEqual(listBefore);
  });

  it('fire once when two instances follow the same log, even without a shared checkpoint', async () => {
    // A second instance's watcher: its own read store (its own usage state and checkpoint), the same log.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-second-'));
    const otherReads = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
    const store = t.app.get<EventStore>(EVENT_STORE);
    const secondWatcher = new ThresholdWatcherProcess(t.app.get(RaiseAlertHandler), t.app.get(PlansFacade), t.app.get(SubscriptionsFacade));
    const second = new ProjectionRunner(store, otherReads, [secondWatcher]);
    await second.start();
    try {
      // bob: 20 gemini calls reach total_calls 80/90/100 (16, 18, 20), watched by both instances at once.
      await appendUsage('bob', 'gemini', 20);
      await Promise.all([t.settle(), second.caughtUp()]);
      await t.settle();
      const keys = (await alertEvents('bob')).map((e) => `${(e.data as any).limit}:${(e.data as any).threshold}`).sort();
      expect(keys).toEqual(['total_calls:100', 'total_calls:80', 'total_calls:90']);
      // Both watchers saw every call.
      expect(((await otherReads.collection('alert_usage_tracker').find({ user_id: 'bob' })).items[0] as any).totals.calls).toBe(20);
      const list = await t.request('GET', '/api/subscription/alerts/bob', { key: tenantKey });
      expect(list.body.alerts.map((a: any) => a.message)).toEqual(['You have used 20 of 20 API calls', 'You have used 18 of 20 API calls', 'You have used 16 of 20 API calls']);
    } finally {
      await second.stop();
      await otherReads.close();
    }
  });

  it('are marked read one at a time and all at once, and filtered by read state, severity and period', async () => {
    const all = (await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey })).body.alerts;
    const first = all.find((a: any) => a.severity === 'info');
    const r = await t.request('POST', `/api/subscription/alerts/${first.alert_id}/read`, { key: tenantKey, body: {} });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ alert_id: first.alert_id, is_read: true });
    await t.settle();
    const after = (await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey })).body.alerts;
    // Unread first.
    expect(after[after.length - 1]).toMatchObject({ alert_id: first.alert_id, is_read: true, read_at: expect.any(String) });
    expect(after.slice(0, -1).every((a: any) => !a.is_read)).toBe(true);
    const unread = (await t.request('GET', '/api/subscription/alerts/alice?is_read=false', { key: tenantKey })).body.alerts;
    expect(unread.map((a: any) => a.alert_id)).not.toContain(first.alert_id);
    const warnings = (await t.request('GET', '/api/subscription/alerts/alice?severity=warning', { key: tenantKey })).body.alerts;
    expect(warnings.every((a: any) => a.severity === 'warning')).toBe(true);
    const period = first.period_start as string;
    expect((await t.request('GET', `/api/subscription/alerts/alice?period=${encodeURIComponent(period)}`, { key: tenantKey })).body.alerts).toHaveLength(all.length);
    expect((await t.request('GET', '/api/subscription/alerts/alice?period=2024-01', { key: tenantKey })).body.alerts).toHaveLength(0);
    expect((await t.request('GET', '/api/subscription/alerts/alice?severity=loud', { key: tenantKey })).status).toBe(422);

    // Marking it again changes nothing (no second AlertRead).
    expect((await t.request('POST', `/api/subscription/alerts/${first.alert_id}/read`, { key: tenantKey })).status).toBe(200);
    const readAll = await t.request('POST', '/api/subscription/alerts/alice/read-all', { key: tenantKey, body: {} });
    expect(readAll.status).toBe(200);
    expect(readAll.body.marked).toBe(all.length - 1);
    await t.settle();
    expect((await t.request('GET', '/api/subscription/alerts/alice?is_read=false', { key: tenantKey })).body.alerts).toEqual([]);
    const store = t.app.get<EventStore>(EVENT_STORE);
    const reads = (await store.readAll({ maxCount: 1_000_000 })).filter((e) => e.type === 'AlertRead' && (e.data as any).user_id === 'alice');
    expect(reads).toHaveLength(all.length);
  });

  it("answer 404 for another user's or another tenant's alerts", async () => {
    const aliceAlert = (await t.request('GET', '/api/subscription/alerts/alice', { key: tenantKey })).body.alerts[0];
    const userKey = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'carol' } })).body.key;
    expect((await t.request('GET', '/api/subscription/alerts/alice', { key: userKey })).status).toBe(404);
    expect((await t.request('POST', `/api/subscription/alerts/${aliceAlert.alert_id}/read`, { key: userKey })).status).toBe(404);
    expect((await t.request('POST', '/api/subscription/alerts/alice/read-all', { key: userKey })).status).toBe(404);
    expect((await t.request('GET', '/api/subscription/alerts/carol', { key: userKey })).status).toBe(200);

    await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'other-shop', name: 'Other' } });
    const otherKey = (await t.request('POST', '/api/admin/tenants/other-shop/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    expect((await t.request('POST', `/api/subscription/alerts/${aliceAlert.alert_id}/read`, { key: otherKey })).status).toBe(404);
    expect((await t.request('GET', '/api/subscription/alerts/alice', { key: otherKey })).body.alerts ?? []).toEqual([]);
    expect((await t.request('POST', '/api/subscription/alerts/no-such-alert/read', { key: tenantKey })).status).toBe(404);
  });

  it('send one renewal notice when the period ends within three days', async () => {
    await appendUsage('rita', 'mistral', 1);
    await t.settle();
    const sub = await t.app.get(SubscriptionsFacade).getEffective(tenant, 'rita', t.clock.now());
    const job = t.app.get(RenewalNoticeJob);
    expect(await job.run()).toBe(0);
    t.clock.set(new Date(new Date(sub.period_end).getTime() - 2.5 * 86_400_000));
    expect(await job.run()).toBeGreaterThanOrEqual(1);
    expect(await job.run()).toBe(0);
    await t.settle();
    const notices = (await t.request('GET', '/api/subscription/alerts/rita', { key: tenantKey })).body.alerts;
    expect(notices).toEqual([
      expect.objectContaining({ kind: 'renewal', severity: 'info', limit: null, threshold: null, title: 'Subscription Renewal Notice', message: `Your Tiny subscription renews on ${sub.period_end.slice(0, 10)} (in 3 days); usage counters start again then.` }),
    ]);
    const store = t.app.get<EventStore>(EVENT_STORE);
    const events = (await store.readAll({ maxCount: 1_000_000 })).filter((e) => e.type === 'RenewalNoticeRaised' && (e.data as any).user_id === 'rita');
    expect(events).toHaveLength(1);
    t.clock.set('2025-03-10T12:00:00.000Z');
  });

  it('send the renewal notice to a subscribed user who made no call this period too', async () => {
    const subscribed = await t.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: 'sam', plan_id: 'tiny', billing_cycle: 'monthly' } });
    expect(subscribed.status).toBeLessThan(300);
    await t.settle();
    t.clock.set(new Date(new Date(subscribed.body.period_end).getTime() - 2 * 86_400_000));
    await t.app.get(RenewalNoticeJob).run();
    await t.settle();
    const notices = (await t.request('GET', '/api/subscription/alerts/sam', { key: tenantKey })).body.alerts;
    expect(notices).toEqual([expect.objectContaining({ kind: 'renewal', severity: 'info', title: 'Subscription Renewal Notice', period_end: subscribed.body.period_end })]);
    t.clock.set('2025-03-10T12:00:00.000Z');
  });
});
