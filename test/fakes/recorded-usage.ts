import { randomUUID } from 'crypto';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { UsageRecordedData, usageStreamId } from '../../src/metering';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Appends `n` recorded Tavily searches of a user straight to the log (as metering would), in the user's period. */
export async function appendSearches(t: TestApp, tenantId: string, user: string, n: number): Promise<void> {
  const store = t.app.get<EventStore>(EVENT_STORE);
  const sub = await t.app.get(SubscriptionsFacade).getEffective(tenantId, user, t.clock.now());
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    const data: UsageRecordedData = {
      usage_id: id, tenant_id: tenantId, user_id: user, provider: 'tavily', model: 'search', operation: 'search', source: 'report',
      input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 1, cost: '0.001',
      price_version: 'test', price_source: 'catalog', latency_ms: 5, status: 200, streamed: false, estimated: false,
      occurred_at: t.clock.now().toISOString(), period_start: sub.period_start, period_end: sub.period_end, plan_id: sub.plan_id,
    };
    await store.append(usageStreamId(tenantId, id, data.source), [{ id: randomUUID(), type: 'UsageRecorded', data, metadata: { occurredAt: data.occurred_at } }], 'no_stream');
  }
}

/** Polls `check` every 50 ms until it holds (rejects after `timeoutMs`): for work that happens off the request. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The operator creates a tenant (on `defaultPlanId`) and its tenant key; returns the key. */
export async function tenantWithKey(t: TestApp, tenantId: string, defaultPlanId: string): Promise<string> {
  await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: tenantId, name: tenantId, default_plan_id: defaultPlanId } });
  return (await t.request('POST', `/api/admin/tenants/${tenantId}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
}
