import { randomUUID } from 'crypto';
import Decimal from 'decimal.js';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { UsageRecordedData, usageStreamId } from '../../src/metering';
import { SubscriptionsFacade } from '../../src/subscriptions';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/**
 * Six months of generated usage (fake clock), then the dashboard, usage and trend figures against sums computed here,
 * independently, from the generated log.
 */
const D = Decimal.clone({ precision: 40 });
const DAY = 86_400_000;
const NOW = '2025-09-15T12:00:00.000Z';
const PROVIDERS = ['gemini', 'openai', 'anthropic', 'tavily'];

function prng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Gen {
  day: string;
  occurred_at: string;
  provider: string;
  tokens: number;
  input: number;
  output: number;
  cost: string;
}

const round2 = (d: Decimal.Value) => new D(d).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toNumber();
const cost6 = (d: Decimal.Value) => new D(d).toDecimalPlaces(6, Decimal.ROUND_HALF_EVEN).toNumber();
const dayOf = (iso: string | Date) => new Date(iso).toISOString().slice(0, 10);
const addDays = (day: string, n: number) => dayOf(new Date(new Date(`${day}T00:00:00Z`).getTime() + n * DAY));

describe('Dashboard, usage and trends over six months of history', () => {
  let t: TestApp;
  let tenantKey: string;
  const tenant = 'dash-shop';
  const gen: Gen[] = [];
  const eve: Gen[] = [];
  let period: { period_start: string; period_end: string };

  async function append(user: string, g: Gen, sub: { period_start: string; period_end: string; plan_id: string }) {
    const id = randomUUID();
    const data: UsageRecordedData = {
      usage_id: id, tenant_id: tenant, user_id: user, provider: g.provider, model: g.provider === 'tavily' ? 'search' : 'model-x', operation: 'chat', source: 'report',
      input_tokens: g.input, output_tokens: g.output, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: g.provider === 'tavily' ? 1 : 0, cost: g.cost,
      price_version: 'test', price_source: 'catalog', latency_ms: 10, status: 200, streamed: false, estimated: false,
      occurred_at: g.occurred_at, period_start: sub.period_start, period_end: sub.period_end, plan_id: sub.plan_id,
    };
    await t.app.get<EventStore>(EVENT_STORE).append(usageStreamId(tenant, id, data.source), [{ id: randomUUID(), type: 'UsageRecorded', data, metadata: { occurredAt: g.occurred_at } }], 'no_stream');
  }

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-01T00:00:00.000Z' });
    await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: tenant, name: 'Dashboard shop', default_plan_id: 'pro' } });
    tenantKey = (await t.request('POST', `/api/admin/tenants/${tenant}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    for (const [user, plan] of [['dana', 'pro'], ['eve', 'free']])
      expect((await t.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: user, plan_id: plan, billing_cycle: 'monthly' } })).status).toBeLessThan(300);

    t.clock.set(NOW);
    const subs = t.app.get(SubscriptionsFacade);
    const sub = await subs.getEffective(tenant, 'dana', new Date(NOW));
    period = { period_start: sub.period_start, period_end: sub.period_end };
    const rnd = prng(42);
    for (let day = '2025-03-01'; day <= dayOf(NOW); day = addDays(day, 1)) {
      const n = rnd() < 0.2 ? 0 : Math.floor(rnd() * 12);
      for (let i = 0; i < n; i++) {
        const at = new Date(new Date(`${day}T00:00:00Z`).getTime() + Math.floor(rnd() * DAY));
        if (at.toISOString() >= NOW) continue;
        const provider = PROVIDERS[Math.floor(rnd() * PROVIDERS.length)];
        const input = provider === 'tavily' ? 0 : 100 + Math.floor(rnd() * 400);
        const output = provider === 'tavily' ? 0 : Math.floor(rnd() * 200);
        const cost = new D(1 + Math.floor(rnd() * 999_999)).div(1e7).toFixed(); // up to 7 decimal places
        gen.push({ day, occurred_at: at.toISOString(), provider, tokens: input + output, input, output, cost });
      }
    }
    for (const g of gen) {
      const inPeriod = g.occurred_at >= period.period_start && g.occurred_at < period.period_end;
      const month = g.occurred_at.slice(0, 7);
      const next = new Date(Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)), 1)).toISOString();
      await append('dana', g, inPeriod ? { ...period, plan_id: sub.plan_id } : { period_start: `${month}-01T00:00:00.000Z`, period_end: next, plan_id: sub.plan_id });
    }
    // eve (Free: 500 Gemini calls) is at 82 percent of gemini_calls.
    const eveSub = await subs.getEffective(tenant, 'eve', new Date(NOW));
    for (let i = 0; i < 410; i++) {
      const at = new Date(Date.parse(eveSub.period_start) + (i % 14) * DAY + 1000 + i).toISOString();
      const g = { day: dayOf(at), occurred_at: at, provider: 'gemini', tokens: 50, input: 40, output: 10, cost: '0.000001' };
      eve.push(g);
      await append('eve', g, eveSub);
    }
    await t.settle();
    await t.settle();
  }, 120_000);
  afterAll(async () => t?.close());

  const inPeriod = () => gen.filter((g) => g.occurred_at >= period.period_start && g.occurred_at < period.period_end);
  const sumCost = (xs: Gen[]) => xs.reduce((s, g) => s.plus(g.cost), new D(0));

  it('shows the current period exactly as the log sums it, in the specification\'s shape', async () => {
    const r = await t.request('GET', '/api/subscription/dashboard/dana', { key: tenantKey });
    expect(r.status).toBe(200);
    const d = r.body;
    if (process.env.DUMP_DASHBOARD) console.log(JSON.stringify(d, null, 1));
    const mine = inPeriod();
    expect(mine.length).toBeGreaterThan(10);
    const breakdown: Record<string, { calls: number; cost: number; tokens: number }> = {};
    for (const p of PROVIDERS) {
      const xs = mine.filter((g) => g.provider === p);
      if (xs.length) breakdown[p] = { calls: xs.length, cost: cost6(sumCost(xs)), tokens: xs.reduce((s, g) => s + g.tokens, 0) };
    }
    expect(d.current_usage).toMatchObject({ total_calls: mine.length, total_cost: cost6(sumCost(mine)), total_cost_exact: sumCost(mine).toFixed(), usage_status: 'active' });
    for (const [p, v] of Object.entries(breakdown)) expect(d.current_usage.provider_breakdown[p]).toMatchObject(v);
    expect(Object.keys(d.current_usage.provider_breakdown).sort()).toEqual(Object.keys(breakdown).sort());

    const planLimits = (await t.request('GET', '/api/subscription/plans')).body.plans.find((p: any) => p.plan_id === 'pro').limits;
    expect(d.limits).toMatchObject({ plan_name: 'Pro', limits: planLimits });
    const used = (limit: string) => {
      if (limit === 'monthly_cost') return sumCost(mine);
      const [who, what] = [limit.slice(0, limit.lastIndexOf('_')), limit.slice(limit.lastIndexOf('_') + 1)];
      const xs = who === 'total' ? mine : mine.filter((g) => g.provider === who);
      return new D(what === 'calls' ? xs.length : xs.reduce((s, g) => s + g.tokens, 0));
    };
    for (const [limit, value] of Object.entries(planLimits as Record<string, number>)) expect(d.usage_percentages[limit]).toBe(round2(used(limit).div(value).times(100)));
    expect(d.usage_percentages.cost).toBe(round2(sumCost(mine).div(planLimits.monthly_cost).times(100)));

    // Projection: usage so far + the average of the last 7 complete days of the period x days remaining.
    const now = Date.parse(NOW);
    const today = dayOf(NOW);
    const firstDay = dayOf(period.period_start);
    const window: string[] = [];
    for (let k = addDays(today, -7); k < today; k = addDays(k, 1)) if (k >= firstDay) window.push(k);
    const remaining = Math.max(0, (Date.parse(period.period_end) - now) / DAY);
    const avgCost = window.length ? sumCost(mine.filter((g) => window.includes(g.day))).div(window.length) : sumCost(mine).div(Math.max(1, (now - Date.parse(period.period_start)) / DAY));
    const projected = sumCost(mine).plus(avgCost.times(remaining));
    expect(d.projections).toMatchObject({
      projected_monthly_cost: cost6(projected),
      projected_usage_percentage: round2(projected.div(planLimits.monthly_cost).times(100)),
      method: expect.stringContaining('last_7'),
      projected_limit_dates: expect.any(Object),
    });
    expect(Object.keys(d.projections.projected_limit_dates).sort()).toEqual(Object.keys(planLimits).sort());

    // Trend: calls of the last 3 complete days against the 3 before.
    const callsOn = (k: string) => gen.filter((g) => g.day === k).length;
    const recent = [1, 2, 3].reduce((s, j) => s + callsOn(addDays(today, -j)), 0);
    const before = [4, 5, 6].reduce((s, j) => s + callsOn(addDays(today, -j)), 0);
    const trend = before === 0 ? (recent > 0 ? 'increasing' : 'stable') : (recent - before) / before > 0.1 ? 'increasing' : (recent - before) / before < -0.1 ? 'decreasing' : 'stable';
    expect(d.usage_trend).toBe(trend);

    // Average tokens a call above 300: optimize prompts; nothing near Pro's limits: no upgrade.
    const perCall = mine.reduce((s, g) => s + g.tokens, 0) / mine.length;
    expect(d.recommendations.map((x: any) => x.type)).toEqual(perCall > 300 ? ['optimize_prompts'] : []);

    const unread = (await t.request('GET', '/api/subscription/alerts/dana?is_read=false', { key: tenantKey })).body.alerts;
    expect(d.alerts).toEqual(unread);

    // The usage endpoint (metering's read model) agrees.
    const usage = await t.request('GET', '/api/subscription/usage/dana', { key: tenantKey });
    expect(usage.status).toBe(200);
    expect(usage.body.current_usage).toMatchObject({ total_calls: mine.length, total_cost: cost6(sumCost(mine)) });
  });

  it('recommends the next plan, naming it and what it adds, past 80 percent of a limit', async () => {
    const d = (await t.request('GET', '/api/subscription/dashboard/eve', { key: tenantKey })).body;
    expect(d.current_usage.total_calls).toBe(410);
    expect(d.usage_percentages.gemini_calls).toBe(82);
    expect(d.current_usage.usage_status).toBe('warning');
    // 90 calls of headroom at the pace of the last 7 complete days: the date it runs out.
    const today = dayOf(NOW);
    const window = [1, 2, 3, 4, 5, 6, 7].map((j) => addDays(today, -j));
    const avg = eve.filter((g) => window.includes(g.day)).length / 7;
    const expected = Date.parse(NOW) + ((500 - 410) / avg) * DAY;
    expect(Math.abs(Date.parse(d.projections.projected_limit_dates.gemini_calls) - expected)).toBeLessThan(1000);
    expect(d.projections.projected_limit_dates.total_calls).toBeNull();
    expect(d.projections.projected_percentages.gemini_calls).toBe(round2(new D(410).plus(new D(avg).times((Date.parse(d.period_end) - Date.parse(NOW)) / DAY)).div(5)));
    const basic = (await t.request('GET', '/api/subscription/plans')).body.plans.find((p: any) => p.plan_id === 'basic');
    expect(d.recommendations).toEqual([
      expect.objectContaining({ type: 'upgrade_plan', plan_id: 'basic', plan_name: 'Basic', adds: expect.objectContaining({ gemini_calls: basic.limits.gemini_calls }), message: expect.stringMatching(/^Upgrade to Basic/) }),
    ]);
    // The 80 percent alert shows on the dashboard, unread.
    expect(d.alerts).toEqual(expect.arrayContaining([expect.objectContaining({ limit: 'gemini_calls', threshold: 80, severity: 'info', title: 'API Usage Notice - Gemini', message: 'You have used 400 of 500 Gemini API calls' })]));
  });

  it('serves zero-filled daily and monthly trends that sum like the log', async () => {
    const daily = await t.request('GET', '/api/subscription/usage/dana/trends?granularity=day&months=6', { key: tenantKey });
    expect(daily.status).toBe(200);
    const alias = await t.request('GET', '/api/subscription/trends/dana?granularity=day&months=6', { key: tenantKey });
    expect(alias.body).toEqual(daily.body);
    const from = '2025-03-01';
    expect(daily.body).toMatchObject({ granularity: 'day', months: 6, from, to: dayOf(NOW) });
    const days: string[] = [];
    for (let k = from; k <= dayOf(NOW); k = addDays(k, 1)) days.push(k);
    expect(daily.body.series.map((b: any) => b.start)).toEqual(days);
    for (const b of daily.body.series) {
      const xs = gen.filter((g) => g.day === b.start);
      expect([b.calls, b.tokens, b.cost_exact]).toEqual([xs.length, xs.reduce((s, g) => s + g.tokens, 0), sumCost(xs).toFixed()]);
      for (const p of PROVIDERS) {
        const ps = xs.filter((g) => g.provider === p);
        expect(b.providers[p]).toMatchObject({ calls: ps.length, cost: cost6(sumCost(ps)) });
      }
    }
    expect(daily.body.series.some((b: any) => b.calls === 0)).toBe(true);

    const monthly = await t.request('GET', '/api/subscription/usage/dana/trends?granularity=month&months=6', { key: tenantKey });
    expect(monthly.body.series.map((b: any) => b.start)).toEqual(['2025-03', '2025-04', '2025-05', '2025-06', '2025-07', '2025-08', '2025-09']);
    for (const b of monthly.body.series) {
      const xs = gen.filter((g) => g.day.startsWith(b.start));
      expect([b.calls, b.cost_exact]).toEqual([xs.length, sumCost(xs).toFixed()]);
    }
    expect(monthly.body.totals).toEqual(daily.body.totals);
    expect(monthly.body.totals.calls).toBe(gen.length);
    expect((await t.request('GET', '/api/subscription/usage/dana/trends?granularity=week', { key: tenantKey })).status).toBe(422);
    expect((await t.request('GET', '/api/subscription/usage/dana/trends?months=0', { key: tenantKey })).status).toBe(422);
  });

  it('never shows figures older than the read model (the cache follows the projections)', async () => {
    const before = (await t.request('GET', '/api/subscription/dashboard/dana', { key: tenantKey })).body.current_usage.total_calls;
    const g: Gen = { day: dayOf(NOW), occurred_at: new Date(Date.parse(NOW) - 1000).toISOString(), provider: 'openai', tokens: 10, input: 5, output: 5, cost: '0.01' };
    await append('dana', g, { ...period, plan_id: 'pro' });
    gen.push(g);
    await t.settle();
    const after = (await t.request('GET', '/api/subscription/dashboard/dana', { key: tenantKey })).body.current_usage.total_calls;
    expect(after).toBe(before + 1);
  });

  it('is the same after the read models are rebuilt from the first event', async () => {
    const before = (await t.request('GET', '/api/subscription/dashboard/dana', { key: tenantKey })).body;
    const trendsBefore = (await t.request('GET', '/api/subscription/usage/dana/trends', { key: tenantKey })).body;
    for (const name of ['usage-daily', 'dashboard-period-totals']) expect((await t.request('POST', `/api/admin/projections/${name}/rebuild`, { key: TEST_ADMIN_KEY })).status).toBeLessThan(300);
    await t.settle();
    expect((await t.request('GET', '/api/subscription/dashboard/dana', { key: tenantKey })).body).toEqual(before);
    expect((await t.request('GET', '/api/subscription/usage/dana/trends', { key: tenantKey })).body).toEqual(trendsBefore);
  });

  it("answers 404 for another user's dashboard and trends", async () => {
    const userKey = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'eve' } })).body.key;
    expect((await t.request('GET', '/api/subscription/dashboard/dana', { key: userKey })).status).toBe(404);
    expect((await t.request('GET', '/api/subscription/usage/dana/trends', { key: userKey })).status).toBe(404);
    expect((await t.request('GET', '/api/subscription/dashboard/eve', { key: userKey })).status).toBe(200);
  });
});
