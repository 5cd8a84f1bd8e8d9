import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { uuidV5 } from '../../libs/ids/name-based-uuid';
import { MeteringFacade, UsageRecordedData } from '../../src/metering';
import { usageEventId } from '../../src/metering/domain/deterministic-id';
import { parseReportedUsage, payloadHash } from '../../src/metering/domain/reported-usage';
import { PROVIDER_IDS } from '../../src/shell';
import type { UsageAlertRaisedData } from '../../src/alerts/domain/alert';
import { deterministicUuid } from '../../src/alerts/application/deterministic-id';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/**
 * A data dir written before stream names were length-prefixed: usage under `usage-{tenant}-{id}`. The upgraded app
 * still finds those records, so a report accepted before and re-sent after is a duplicate, never counted twice.
 */
describe('Ids: records stored under the old stream names keep deduplicating after the upgrade', () => {
  const NOW = '2025-03-10T12:00:00.000Z';
  let t: TestApp;
  let keys: Record<string, string>;
  const event = (id: string, input_tokens: number, user_id = 'ann') => ({ id, user_id, provider: 'openai', model: 'gpt-4', input_tokens, output_tokens: 10, occurred_at: NOW });

  /** What the old writer stored for an event: the record under the old name, with the event id it gave. */
  async function oldRecord(app: TestApp, tenant: string, raw: ReturnType<typeof event>, eventId: string, source: 'report' | 'gateway' = 'report') {
    const parsed = parseReportedUsage(raw, PROVIDER_IDS, new Date(NOW));
    if (!parsed.ok) throw new Error(parsed.reason);
    const u = parsed.usage;
    const sub = await app.app.get(SubscriptionsFacade).getEffective(tenant, u.user_id, new Date(NOW));
    const data: UsageRecordedData = app.app.get(MeteringFacade).recordedData(tenant, u.user_id, sub, { ...u, usage_id: u.id }, source);
    if (source === 'report') data.payload_hash = payloadHash(u);
    await app.app.get<EventStore>(EVENT_STORE).append(`usage-${tenant}-${u.id}`, [{ id: eventId, type: 'UsageRecorded', data, metadata: { occurredAt: NOW } }], 'no_stream');
  }

  const V7 = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

  beforeAll(async () => {
    const before = await startTestApp({ now: NOW });
    keys = {};
    for (const tenant of ['acme', 'acme-eu']) keys[tenant] = (await setupTenant(before, { tenantId: tenant })).tenantKey;
    // acme reported eu-1: its old stream name is also what acme-eu's id 1 would have used.
    await oldRecord(before, 'acme', event('eu-1', 1000), usageEventId('acme', 'eu-1'));
    // A UUIDv7-shaped report id stored before its event id kept the v7 prefix (a plain v5 id then).
    await oldRecord(before, 'acme', event(V7, 3000), uuidV5(`UsageRecorded\u0000acme\u0000${V7}`, Buffer.from('7b3f6c1e4a2d4e8f9c0a5d6b1e2f3a4b', 'hex')));
    // A gateway call recorded under the old name (its request id).
    const gatewayId = '0195a1b2-c3d4-7e5f-8a9b-00000000beef';
    await oldRecord(before, 'acme-eu', event(gatewayId, 500), usageEventId('acme-eu', gatewayId), 'gateway');
    // zed's one call crossed 80, 90 and 100 percent of its one-call plan; the alerts were stored under the old names.
    expect((await before.request('PUT', '/api/admin/plans/one-call', { key: TEST_ADMIN_KEY, body: { name: 'One', monthly_price: 1, yearly_price: 10, limits: { total_calls: 1 } } })).status).toBe(200);
    expect((await before.request('POST', '/api/subscription/subscribe', { key: keys['acme-eu'], body: { user_id: 'zed', plan_id: 'one-call', billing_cycle: 'monthly' } })).status).toBe(201);
    const sub = await before.app.get(SubscriptionsFacade).getEffective('acme-eu', 'zed', new Date(NOW));
    const periodStart = new Date(sub.period_start).toISOString();
    for (const threshold of [80, 90, 100]) {
      const stream = `alert-acme-eu-zed-${periodStart}-total_calls-${threshold}`;
      const data: UsageAlertRaisedData = {
        alert_id: deterministicUuid(stream), kind: 'usage', tenant_id: 'acme-eu', user_id: 'zed', plan_id: 'one-call', limit: 'total_calls', threshold,
        value: 1, value_exact: '1', limit_value: 1, severity: threshold === 100 ? 'critical' : 'warning', title: `Usage notice ${threshold}`, message: 'old',
        period_start: periodStart, period_end: new Date(sub.period_end).toISOString(), usage_id: 'zed-1', raised_at: NOW,
      };
      await before.app.get<EventStore>(EVENT_STORE).append(stream, [{ id: deterministicUuid(`${stream}#raised`), type: 'UsageAlertRaised', data, metadata: { occurredAt: NOW } }], 'no_stream');
    }
    await oldRecord(before, 'acme-eu', event('zed-1', 10, 'zed'), usageEventId('acme-eu', 'zed-1'));
    await before.settle();
    await before.close();
    t = await startTestApp({ now: NOW, dataDir: before.dataDir });
  });
  afterAll(async () => t?.close());

  const send = async (tenant: string, raw: ReturnType<typeof event>) =>
    (await t.request('POST', '/api/usage/events', { key: keys[tenant], body: { events: [raw] } })).body.results[0];
  const calls = async (tenant: string) => {
    await t.settle();
    return (await t.request('GET', '/api/subscription/usage/ann', { key: keys[tenant] })).body.current_usage.total_calls;
  };

  it('answers a report re-sent after the upgrade as a duplicate and counts it once', async () => {
    expect(await calls('acme')).toBe(2);
    expect(await send('acme', event('eu-1', 1000))).toEqual(expect.objectContaining({ id: 'eu-1', status: 'duplicate' }));
    expect(await send('acme', event('eu-1', 9999))).toEqual(expect.objectContaining({ id: 'eu-1', status: 'conflict' }));
    expect(await send('acme', event(V7, 3000))).toEqual(expect.objectContaining({ id: V7, status: 'duplicate' }));
    expect(await calls('acme')).toBe(2);
  });

  it('lets acme-eu report id 1, which the old name gave to acme’s eu-1, once', async () => {
    expect(await send('acme-eu', event('1', 2000))).toEqual(expect.objectContaining({ id: '1', status: 'accepted' }));
    expect(await send('acme-eu', event('1', 2000))).toEqual(expect.objectContaining({ id: '1', status: 'duplicate' }));
  });

  it('refuses a report that takes the id of a gateway call recorded before the upgrade', async () => {
    const before = await calls('acme-eu');
    expect(await send('acme-eu', event('0195a1b2-c3d4-7e5f-8a9b-00000000beef', 0))).toEqual(expect.objectContaining({ status: 'conflict' }));
    expect(await calls('acme-eu')).toBe(before);
  });

  it('does not raise again an alert stored under its old name, even when the alert watcher replays from the first event', async () => {
    const raisedForZed = async () => (await t.app.get<EventStore>(EVENT_STORE).readAll()).filter((e) => e.type === 'UsageAlertRaised' && (e.data as UsageAlertRaisedData).user_id === 'zed');
    expect(await raisedForZed()).toHaveLength(3);
    expect((await t.request('POST', '/api/admin/projections/alert-threshold-watcher/rebuild', { key: TEST_ADMIN_KEY })).status).toBeLessThan(300);
    await t.settle();
    expect(await raisedForZed()).toHaveLength(3);
    const alerts = (await t.request('GET', '/api/subscription/alerts/zed', { key: keys['acme-eu'] })).body.alerts;
    expect(alerts.map((a: { title: string }) => a.title).sort()).toEqual(['Usage notice 100', 'Usage notice 80', 'Usage notice 90']);
    // And the old alert can still be marked read.
    expect((await t.request('POST', `/api/subscription/alerts/${alerts[0].alert_id}/read`, { key: keys['acme-eu'] })).status).toBeLessThan(300);
  });
});
