import { addUsageInPlace, emptyTotals, UsageTotals } from '../../alerts';
import { daysBetween, minusMonths, monthsBetween } from './calendar';
import { usageTrend } from '../../subscriptions';
import { recommendations, usageOutlook } from './usage-outlook';

function day(calls: number, provider = 'gemini', tokensEach = 100, costEach = '0.01'): UsageTotals {
  let t = emptyTotals();
  for (let i = 0; i < calls; i++) t = addUsageInPlace(t, { provider, tokens: tokensEach, units: 0, cost: costEach });
  return t;
}
function sumOf(days: UsageTotals[]): UsageTotals {
  return days.reduce((acc, d) => {
    let t = acc;
    for (const [p, v] of Object.entries(d.providers)) for (let i = 0; i < v.calls; i++) t = addUsageInPlace(t, { provider: p, tokens: v.tokens / v.calls, units: 0, cost: String(Number(v.cost) / v.calls) });
    return t;
  }, emptyTotals());
}

describe('The usage outlook', () => {
  const periodStart = new Date('2025-03-01T00:00:00.000Z');
  const periodEnd = new Date('2025-04-01T00:00:00.000Z');
  // Ten calls a day on 1..9 March, 4 so far today (10 March, noon).
  const daily: Record<string, UsageTotals> = {};
  for (const k of daysBetween('2025-03-01', '2025-03-09')) daily[k] = day(10);
  daily['2025-03-10'] = day(4);
  const totals = sumOf(Object.values(daily));
  const now = new Date('2025-03-10T12:00:00.000Z');

  it('projects the usage so far plus the last 7 complete days\' average over the days remaining', () => {
    const o = usageOutlook({ now, periodStart, periodEnd, totals, daily, limits: { gemini_calls: 500, monthly_cost: 10 } });
    // 94 so far, 10 a day, 21.5 days left.
    expect(o.averaging_days).toBe(7);
    expect(o.avg_daily_calls).toBe(10);
    expect(o.days_remaining).toBe(21.5);
    expect(o.projected_calls).toBe(94 + 215);
    expect(o.projected_cost.toFixed()).toBe('3.09');
    expect(o.usage_percentages).toEqual({ gemini_calls: 18.8, monthly_cost: 9.4 });
    expect(o.projected_percentages).toEqual({ gemini_calls: 61.8, monthly_cost: 30.9 });
    // With a cost limit, the projected usage percentage is the cost's (as in the specification's example).
    expect(o.projected_usage_percentage).toBe(30.9);
  });

  it('dates the limit the pace reaches within the period, and none beyond it', () => {
    const o = usageOutlook({ now, periodStart, periodEnd, totals, daily, limits: { gemini_calls: 200, total_calls: 1000 } });
    // 106 calls of headroom at 10 a day: 10.6 days after now.
    expect(o.projected_limit_dates.gemini_calls).toBe(new Date(now.getTime() + 10.6 * 86_400_000).toISOString());
    expect(o.projected_limit_dates.total_calls).toBeNull();
  });

  it('dates a limit already reached on the day it was reached', () => {
    const o = usageOutlook({ now, periodStart, periodEnd, totals, daily, limits: { gemini_calls: 25 } });
    expect(o.projected_limit_dates.gemini_calls).toBe('2025-03-03T00:00:00.000Z');
  });

  it('on the period\'s first day, says so (basis first_day) and projects the usage so far instead of extrapolating minutes', () => {
    // 3 calls in the first 15 minutes: not 96 calls a day.
    const first = { '2025-03-01': day(3) };
    const o = usageOutlook({ now: new Date('2025-03-01T00:15:00.000Z'), periodStart, periodEnd, totals: sumOf(Object.values(first)), daily: first, limits: { gemini_calls: 50 } });
    expect(o.basis).toBe('first_day');
    expect(o.averaging_days).toBe(0);
    expect(o.avg_daily_calls).toBe(3);
    expect(o.projected_calls).toBe(3);
    expect(o.projected_cost.toFixed()).toBe('0.03');
    expect(o.projected_percentages).toEqual({ gemini_calls: 6 });
    expect(o.projected_limit_dates).toEqual({ gemini_calls: null });
  });

  it('from the second day on, averages the complete days only (basis complete_days)', () => {
    const two = { '2025-03-01': day(8), '2025-03-02': day(1) };
    const o = usageOutlook({ now: new Date('2025-03-02T06:00:00.000Z'), periodStart, periodEnd, totals: sumOf(Object.values(two)), daily: two, limits: {} });
    expect(o.basis).toBe('complete_days');
    expect(o.averaging_days).toBe(1);
    expect(o.avg_daily_calls).toBe(8);
    expect(o.projected_usage_percentage).toBeNull();
  });
});

describe('The usage trend', () => {
  const today = '2025-03-10';
  const with3and3 = (before: number, recent: number) => {
    const d: Record<string, UsageTotals> = {};
    for (const k of ['2025-03-04', '2025-03-05', '2025-03-06']) d[k] = day(before);
    for (const k of ['2025-03-07', '2025-03-08', '2025-03-09']) d[k] = day(recent);
    d[today] = day(1000); // today is not complete: it does not count
    return d;
  };
  it('is increasing above +10 percent, decreasing below -10 percent, stable between', () => {
    expect(usageTrend(with3and3(10, 12), today)).toBe('increasing');
    expect(usageTrend(with3and3(10, 11), today)).toBe('stable');
    expect(usageTrend(with3and3(10, 8), today)).toBe('decreasing');
    expect(usageTrend(with3and3(10, 9), today)).toBe('stable');
    expect(usageTrend(with3and3(0, 0), today)).toBe('stable');
    expect(usageTrend(with3and3(0, 1), today)).toBe('increasing');
  });

  it('is judged on tokens (the status\'s usage), and on calls only when the six days had no tokens', () => {
    const d: Record<string, UsageTotals> = {};
    // More calls, fewer tokens: tokens decide.
    for (const k of ['2025-03-04', '2025-03-05', '2025-03-06']) d[k] = day(10, 'openai', 100);
    for (const k of ['2025-03-07', '2025-03-08', '2025-03-09']) d[k] = day(12, 'openai', 50);
    expect(usageTrend(d, today)).toBe('decreasing');
    const search: Record<string, UsageTotals> = {};
    for (const k of ['2025-03-04', '2025-03-05', '2025-03-06']) search[k] = day(10, 'tavily', 0);
    for (const k of ['2025-03-07', '2025-03-08', '2025-03-09']) search[k] = day(12, 'tavily', 0);
    expect(usageTrend(search, today)).toBe('increasing');
  });
});

describe('Recommendations', () => {
  const periodStart = new Date('2025-03-01T00:00:00.000Z');
  const periodEnd = new Date('2025-04-01T00:00:00.000Z');
  const now = new Date('2025-03-10T12:00:00.000Z');
  const basic = { plan_id: 'basic', name: 'Basic', monthly_price: '29', limits: { total_calls: 10000 } };
  const pro = { plan_id: 'pro', name: 'Pro', monthly_price: '79', limits: { total_calls: 100000 } };

  it('recommend the next plan when usage passes 80 percent, naming what it adds', () => {
    const totals = day(8100, 'openai', 50);
    const o = usageOutlook({ now, periodStart, periodEnd, totals, daily: {}, limits: basic.limits });
    const r = recommendations(o, totals, basic, pro);
    expect(r).toEqual([
      expect.objectContaining({ type: 'upgrade_plan', plan_id: 'pro', plan_name: 'Pro', monthly_price: 79, adds: { total_calls: 100000 }, reasons: [expect.objectContaining({ limit: 'total_calls', usage_percentage: 81 })] }),
    ]);
    expect((r[0] as { message: string }).message).toMatch(/^Upgrade to Pro \(\$79\.00\/month\): 100,000 total calls/);
  });

  it('recommend the next plan when only the projection passes 90 percent', () => {
    const daily: Record<string, UsageTotals> = {};
    for (const k of daysBetween('2025-03-03', '2025-03-09')) daily[k] = day(400, 'openai', 10);
    const totals = sumOf(Object.values(daily));
    const o = usageOutlook({ now, periodStart, periodEnd, totals, daily, limits: basic.limits });
    expect(o.usage_percentages.total_calls).toBe(28);
    expect(recommendations(o, totals, basic, pro).map((x) => x.type)).toEqual(['upgrade_plan']);
  });

  it('recommend optimizing prompts above 300 tokens a call, and nothing at 300', () => {
    const heavy = day(10, 'openai', 301);
    const o = usageOutlook({ now, periodStart, periodEnd, totals: heavy, daily: {}, limits: {} });
    expect(recommendations(o, heavy, basic, pro)).toEqual([expect.objectContaining({ type: 'optimize_prompts', average_tokens_per_call: 301 })]);
    const fine = day(10, 'openai', 300);
    expect(recommendations(usageOutlook({ now, periodStart, periodEnd, totals: fine, daily: {}, limits: {} }), fine, basic, pro)).toEqual([]);
  });
});

describe('The calendar', () => {
  it('counts months back and lists buckets', () => {
    expect(minusMonths(new Date('2025-03-31T10:00:00Z'), 1).toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(monthsBetween('2024-11', '2025-02')).toEqual(['2024-11', '2024-12', '2025-01', '2025-02']);
    expect(daysBetween('2024-02-27', '2024-03-01')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
  });
});
