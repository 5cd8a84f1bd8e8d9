import { randomUUID } from 'crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import type { UsageRecordedData } from '../../src/metering';
import { PeriodCloseJob, SubscriptionsFacade } from '../../src/subscriptions';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';


describe('Subscriptions over HTTP', () => {
  let t: TestApp;
  let es: EventStore;
  let tenantKey: string;
  const tenant = 'sub-shop';

  beforeAll(async () => {
    // The schedule is off here so each close is the test's own; the job's code is the same.
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z', env: { TOLLGATE_PERIOD_CLOSE_CRON: 'off' } });
    es = t.app.get<EventStore>(EVENT_STORE);
    expect((await t.request('PUT', '/api/admin/plans/tiny', { key: TEST_ADMIN_KEY, body: { name: 'Tiny', monthly_price: 5, yearly_price: 50, limits: { total_tokens: 2000, total_calls: 100 } } })).status).toBeLessThan(300);
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: tenant, name: 'Sub shop' } })).status).toBe(201);
    tenantKey = (await t.request('POST', `/api/admin/tenants/${tenant}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  });
  afterAll(async () => t?.close());

  const job = () => t.app.get(PeriodCloseJob);
  const subscribe = (user: string, plan_id: string, billing_cycle = 'monthly', key = tenantKey) => t.request('POST', '/api/subscription/subscribe', { key, body: { user_id: user, plan_id, billing_cycle } });
  const stream = async (user: string) => (await es.readStream(`subscription-${tenant}/${user}`)).map((e) => ({ type: e.type, data: e.data as any }));

  /** Appends recorded usage straight to the log, stamped with the user's period, as metering does. */
  async function usage(user: string, calls: number, opts: { provider?: string; tokens?: number; cost?: string } = {}) {
    const now = t.clock.now();
    const sub = await t.app.get(SubscriptionsFacade).getEffective(tenant, user, now);
    for (let i = 0; i < calls; i++) {
      const id = randomUUID();
      const data: UsageRecordedData = {
        usage_id: id,
        tenant_id: tenant,
        user_id: user,
        provider: opts.provider ?? 'openai',
        model: 'gpt-4',
        operation: 'chat',
        source: 'report',
        input_tokens: (opts.tokens ?? 1000) - 200,
        output_tokens: 200,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        units: 0,
        cost: opts.cost ?? '0.0123456',
        price_version: 'test',
        price_source: 'catalog',
        latency_ms: 10,
        status: 200,
        streamed: false,
        estimated: false,
        occurred_at: now.toISOString(),
        period_start: sub.period_start,
        period_end: sub.period_end,
        plan_id: sub.plan_id,
      };
      await es.append(`usage-${tenant}-${id}`, [{ id, type: 'UsageRecorded', data, metadata: { occurredAt: now.toISOString() } }], 'no_stream');
    }
    await t.settle();
  }

  it('the operator creates a tenant; the tenant stores a provider key, issues a user key and subscribes the user to Pro; the user reads its own status and nobody else’s', async () => {
    expect((await t.request('PUT', '/api/tenant/provider-keys/openai', { key: tenantKey, body: { api_key: 'sk-test-openai-0123456789' } })).status).toBe(200);
    const alice = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'alice' } })).body.key;
    const sub = await subscribe('alice', 'pro');
    expect(sub.status).toBe(201);
    expect(sub.body).toMatchObject({ tenant_id: tenant, user_id: 'alice', plan_id: 'pro', plan_name: 'Pro', billing_cycle: 'monthly', status: 'active', period_start: '2025-03-10T12:00:00.000Z', period_end: '2025-04-10T12:00:00.000Z', subscription_id: expect.any(String) });
    await usage('alice', 3, { tokens: 1500 });
    const status = await t.request('GET', '/api/subscription/status/alice?include_history=true', { key: alice });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      plan_id: 'pro',
      allocated_tokens: 100_000_000,
      current_usage: 4500,
      remaining_tokens: 100_000_000 - 4500,
      usage_percentage: 0,
      days_remaining_in_period: 31,
      // The period's first day: no complete day yet, so the average is today's so far and nothing is extrapolated.
      avg_daily_usage: 4500,
      projection_basis: 'first_day',
      averaging_days: 0,
      usage_trend: 'stable',
      next_billing_date: '2025-04-10T12:00:00.000Z',
      next_billing_amount: 79.04,
      current_calls: 3,
      current_cost_exact: '0.0370368',
      plan_history: [{ at: '2025-03-10T12:00:00.000Z', change: 'subscribed', plan_id: 'pro', previous_plan_id: null, billing_cycle: 'monthly', reason: null }],
    });
    expect(status.body.projected_monthly_usage).toBe(4500);
    // The dashboard answers the same question the same way, at the same moment.
    const dashboard = await t.request('GET', '/api/subscription/dashboard/alice', { key: alice });
    expect(dashboard.body.usage_trend).toBe(status.body.usage_trend);
    expect(dashboard.body.projections).toMatchObject({ basis: 'first_day', averaging_days: 0, avg_daily_tokens: 4500, projected_tokens: 4500 });
    expect((await t.request('GET', '/api/subscription/status/alice', { key: alice })).body.plan_history).toBeUndefined();
    await subscribe('bob', 'basic');
    expect((await t.request('GET', '/api/subscription/status/bob', { key: alice })).status).toBe(404);
    expect((await t.request('GET', '/api/subscription/billing/bob', { key: alice })).status).toBe(404);
    // A user key may not subscribe anyone, itself included: that is the tenant backend's.
    expect((await subscribe('bob', 'pro', 'monthly', alice)).status).toBe(403);
    expect((await subscribe('alice', 'enterprise', 'monthly', alice)).status).toBe(403);
  });

  it('puts a user without a subscription on the tenant’s default plan from the first call, and follows a changed default', async () => {
    const first = await t.app.get(SubscriptionsFacade).getEffective(tenant, 'newcomer', t.clock.now());
    expect(first).toEqual({
      tenant_id: tenant,
      user_id: 'newcomer',
      subscription_id: null,
      plan_id: 'free',
      plan_name: 'Free',
      billing_cycle: 'monthly',
      status: 'default',
      period_start: '2025-03-10T12:00:00.000Z',
      period_end: '2025-04-10T12:00:00.000Z',
      limits: expect.objectContaining({ total_calls: 1000 }),
      alert_thresholds: [80, 90, 100],
    });
    expect((await stream('newcomer')).map((e) => e.type)).toEqual(['DefaultPlanAssigned']);
    await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'basic-shop', name: 'Basic by default', default_plan_id: 'basic' } });
    expect((await t.app.get(SubscriptionsFacade).getEffective('basic-shop', 'u1', t.clock.now())).plan_id).toBe('basic');
    expect(await t.app.get(SubscriptionsFacade).findEffective(tenant, 'never-seen', t.clock.now())).toBeNull();
  });

  it('refuses bad input in the one error shape', async () => {
    expect((await subscribe('carl', 'no-such-plan')).body.error.code).toBe('subscription_error');
    const bad = await subscribe('carl', 'pro', 'weekly');
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('validation_failed');
    expect((await subscribe('alice', 'basic')).status).toBe(409);
  });

  it('changes plan: PlanChanged with previous, new, when and why; new limits at once; a downgrade below usage leaves nothing remaining', async () => {
    await subscribe('dora', 'pro');
    await usage('dora', 3, { tokens: 1000 });
    t.clock.set('2025-03-12T12:00:00.000Z');
    const down = await t.request('POST', '/api/subscription/dora/change-plan', { key: tenantKey, body: { plan_id: 'tiny', reason: 'saving money' } });
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ plan_id: 'tiny', limits: { total_tokens: 2000, total_calls: 100 }, change: { change: 'downgrade', plan_id: 'tiny', previous_plan_id: 'pro', at: '2025-03-12T12:00:00.000Z', reason: 'saving money' } });
    const changed = (await stream('dora')).find((e) => e.type === 'PlanChanged')!;
    expect(changed.data).toMatchObject({ previous_plan_id: 'pro', new_plan_id: 'tiny', direction: 'downgrade', reason: 'saving money', changed_at: '2025-03-12T12:00:00.000Z', exhausted_limits: ['total_tokens'] });
    const status = (await t.request('GET', '/api/subscription/status/dora', { key: tenantKey })).body;
    expect(status).toMatchObject({ plan_id: 'tiny', allocated_tokens: 2000, current_usage: 3000, remaining_tokens: 0, usage_percentage: 150 });
    expect(status.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ limit: 'total_tokens', threshold: 100, severity: 'critical' })]));
    expect(status.recommendations.length).toBeGreaterThan(0);
    const up = await t.request('POST', '/api/subscription/dora/change-plan', { key: tenantKey, body: { plan_id: 'enterprise' } });
    expect(up.body.change).toMatchObject({ change: 'upgrade', previous_plan_id: 'tiny', plan_id: 'enterprise' });
    expect((await t.request('POST', '/api/subscription/dora/change-plan', { key: tenantKey, body: { plan_id: 'enterprise' } })).status).toBe(409);
  });

  it('closes a period once, with a billing record prorating each plan, when the clock passes its end', async () => {
    t.clock.set('2025-04-10T12:00:30.000Z');
    await Promise.all([job().closeDue(), job().closeDue()]);
    await t.settle();
    const dora = await stream('dora');
    expect(dora.filter((e) => e.type === 'PeriodReset')).toHaveLength(1);
    expect(dora.find((e) => e.type === 'PeriodReset')!.data).toMatchObject({
      period_start: '2025-03-10T12:00:00.000Z',
      period_end: '2025-04-10T12:00:00.000Z',
      totals: { calls: 3, tokens: 3000, cost: '0.0370368', providers: { openai: { calls: 3, tokens: 3000, cost: '0.0370368' } } },
      next_period_start: '2025-04-10T12:00:00.000Z',
      next_period_end: '2025-05-10T12:00:00.000Z',
    });
    const billing = await t.request('GET', '/api/subscription/billing/dora', { key: tenantKey });
    expect(billing.status).toBe(200);
    // Pro 2 of 31 days (79 * 2/31 = 5.10), Tiny 0 days, Enterprise 29 days (199 * 29/31 = 186.16).
    expect(billing.body.billing_history).toEqual([
      {
        billing_id: expect.stringMatching(/^bill_/),
        subscription_id: expect.any(String),
        period_start: '2025-03-10T12:00:00.000Z',
        period_end: '2025-04-10T12:00:00.000Z',
        billing_cycle: 'monthly',
        plans: [
          { plan_id: 'pro', plan_name: 'Pro', from: '2025-03-10T12:00:00.000Z', to: '2025-03-12T12:00:00.000Z', price: 79, base_fee: 5.1 },
          { plan_id: 'tiny', plan_name: 'Tiny', from: '2025-03-12T12:00:00.000Z', to: '2025-03-12T12:00:00.000Z', price: 5, base_fee: 0 },
          { plan_id: 'enterprise', plan_name: 'Enterprise', from: '2025-03-12T12:00:00.000Z', to: '2025-04-10T12:00:00.000Z', price: 199, base_fee: 186.16 },
        ],
        base_fee: 191.26,
        usage_cost: 0.037037,
        usage_cost_exact: '0.0370368',
        usage_cost_by_provider: { openai: 0.037037 },
        total: 191.3,
        currency: 'USD',
        status: 'pending',
        created_at: '2025-04-10T12:00:30.000Z',
      },
    ]);
    // Usage starts from zero in the new period.
    expect((await t.request('GET', '/api/subscription/status/dora', { key: tenantKey })).body).toMatchObject({ current_usage: 0, period_start: '2025-04-10T12:00:00.000Z' });
    // A later run closes nothing more.
    await job().run();
    expect((await stream('dora')).filter((e) => e.type === 'PeriodReset')).toHaveLength(1);
  });

  it('closes each missed period in order after downtime (the admin endpoint runs the job)', async () => {
    t.clock.set('2025-07-11T00:00:00.000Z');
    const r = await t.request('POST', '/api/admin/jobs/period-close', { key: TEST_ADMIN_KEY });
    expect(r.status).toBe(200);
    expect(r.body.closed).toBeGreaterThanOrEqual(3);
    const resets = (await stream('dora')).filter((e) => e.type === 'PeriodReset').map((e) => e.data.period_start);
    expect(resets).toEqual(['2025-03-10T12:00:00.000Z', '2025-04-10T12:00:00.000Z', '2025-05-10T12:00:00.000Z', '2025-06-10T12:00:00.000Z']);
    await t.settle();
    const history = (await t.request('GET', '/api/subscription/billing/dora', { key: tenantKey })).body.billing_history;
    expect(history.map((b: any) => b.period_start)).toEqual(['2025-06-10T12:00:00.000Z', '2025-05-10T12:00:00.000Z', '2025-04-10T12:00:00.000Z', '2025-03-10T12:00:00.000Z']);
    expect(history[0]).toMatchObject({ base_fee: 199, total: 199, usage_cost: 0 });
    expect((await t.request('POST', '/api/admin/jobs/period-close', { key: tenantKey })).status).toBe(403);
  });

  it('cancels at the end of the period, then the default plan applies', async () => {
    t.clock.set('2025-07-15T00:00:00.000Z');
    await subscribe('erin', 'basic');
    const c = await t.request('POST', '/api/subscription/erin/cancel', { key: tenantKey, body: {} });
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ status: 'cancelling', plan_id: 'basic', cancel_at: '2025-08-15T00:00:00.000Z' });
    t.clock.set('2025-08-15T00:00:01.000Z');
    // Before the job runs, the calendar already says the default plan applies.
    expect((await t.app.get(SubscriptionsFacade).getEffective(tenant, 'erin', t.clock.now())).plan_id).toBe('free');
    // The job finds ended periods in the user_subscriptions read model: let it see the subscription first.
    await t.settle();
    await job().run();
    const events = (await stream('erin')).map((e) => e.type);
    expect(events).toEqual(['Subscribed', 'SubscriptionCancelled', 'PeriodReset', 'BillingRecorded', 'SubscriptionEnded']);
    expect((await t.request('GET', '/api/subscription/status/erin', { key: tenantKey })).body).toMatchObject({ plan_id: 'free', status: 'default', subscription_id: null, period_start: '2025-08-15T00:00:00.000Z' });
    expect((await t.request('POST', '/api/subscription/erin/cancel', { key: tenantKey, body: {} })).status).toBe(409);
  });

  it('cancels immediately with a prorated bill', async () => {
    t.clock.set('2025-08-20T00:00:00.000Z');
    await subscribe('fred', 'pro');
    t.clock.set('2025-08-30T00:00:00.000Z');
    const c = await t.request('POST', '/api/subscription/fred/cancel', { key: tenantKey, body: { immediately: true, reason: 'closing the account' } });
    expect(c.body).toMatchObject({ status: 'default', plan_id: 'free', period_start: '2025-08-30T00:00:00.000Z' });
    await t.settle();
    const bill = (await t.request('GET', '/api/subscription/billing/fred', { key: tenantKey })).body.billing_history[0];
    // Pro for 10 of 31 days: 79 * 10 / 31 = 25.48.
    expect(bill).toMatchObject({ period_start: '2025-08-20T00:00:00.000Z', period_end: '2025-08-30T00:00:00.000Z', base_fee: 25.48, total: 25.48 });
  });

  it('schedules the job from TOLLGATE_PERIOD_CLOSE_CRON (every minute by default)', async () => {
    const other = await startTestApp();
    try {
      const job = other.app.get(SchedulerRegistry).getCronJob('period-close');
      expect(job.isActive).toBe(true);
      expect(String(job.cronTime.source)).toBe('0 * * * * *');
    } finally {
      await other.close();
    }
    expect(() => t.app.get(SchedulerRegistry).getCronJob('period-close')).toThrow();
  });

  it('answers 404 for a user the tenant never had', async () => {
    for (const [m, p] of [
      ['GET', '/api/subscription/status/ghost'],
      ['GET', '/api/subscription/billing/ghost'],
      ['POST', '/api/subscription/ghost/cancel'],
    ])
      expect((await t.request(m, p, { key: tenantKey, body: m === 'POST' ? {} : undefined })).status).toBe(404);
  });
});
