import Decimal from 'decimal.js';
import { Money, costToJson } from '../../../libs/money';
import { formatCount, formatUsd, LimitSubject, limitSubject, UsageTotals, usageOfLimit } from '../../alerts';
import { dailyCountPace, dailyPace, DailyPace, ProjectionBasis, projectCount, usageTrend } from '../../subscriptions';
import { DAY_MS, dayKey, daysBetween } from './calendar';

/** The daily average, projection and trend are defined once, in subscriptions (the status uses the same). */
export { PROJECTION_METHOD, TREND_WINDOW_DAYS } from '../../subscriptions';
/** Recommendations: upgrade above 80 percent used or 90 percent projected; optimize above 300 tokens a call. */
export const UPGRADE_USED_PERCENT = 80;
export const UPGRADE_PROJECTED_PERCENT = 90;
export const OPTIMIZE_TOKENS_PER_CALL = 300;

export interface OutlookInput {
  now: Date;
  periodStart: Date;
  periodEnd: Date;
  /** The period's totals. */
  totals: UsageTotals;
  /** Daily totals by UTC day key; a missing day is a zero. Must cover the period's days up to today, and the 6 days before today. */
  daily: Record<string, UsageTotals>;
  limits: Record<string, number>;
}

export interface Outlook {
  /** `first_day`: no complete day in the period yet, so the projections are the usage so far, not a pace. */
  basis: ProjectionBasis;
  days_elapsed: number;
  days_remaining: number;
  averaging_days: number;
  avg_daily_calls: number;
  avg_daily_tokens: number;
  avg_daily_cost: number;
  projected_calls: number;
  projected_tokens: number;
  projected_cost: Decimal;
  /** Per limit: usage percentage now and projected, and the date the pace reaches it (null: not within the period). */
  usage_percentages: Record<string, number>;
  projected_percentages: Record<string, number>;
  projected_limit_dates: Record<string, string | null>;
  projected_usage_percentage: number | null;
  usage_trend: 'increasing' | 'decreasing' | 'stable';
}

const pct = (used: Decimal, limit: number): number => (limit > 0 ? used.div(limit).times(100).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toNumber() : used.gt(0) ? 100 : 0);
const round2n = (n: number) => Math.round(n * 100) / 100;

/** The usage of a count limit (calls, tokens, units) as a number. */
function countOf(s: LimitSubject, t: UsageTotals): number {
  const source = s.provider === null ? t : t.providers[s.provider];
  if (!source || s.measure === 'cost') return 0;
  return source[s.measure];
}

export function usageOutlook(i: OutlookInput): Outlook {
  const today = dayKey(i.now);
  const firstDay = dayKey(i.periodStart);
  const elapsedDays = Math.max(0, (i.now.getTime() - i.periodStart.getTime()) / DAY_MS);
  const remainingDays = Math.max(0, (i.periodEnd.getTime() - i.now.getTime()) / DAY_MS);
  // Counts are whole numbers (exact as doubles); only cost goes through Decimal.
  const countPace = (measure: (t: UsageTotals) => number) => dailyCountPace(today, firstDay, (d) => (i.daily[d] ? measure(i.daily[d]) : 0));
  const costPace = (measure: (t: UsageTotals) => Decimal.Value): DailyPace<Decimal> =>
    dailyPace<Decimal>(
      today,
      firstDay,
      (d) => new Money(i.daily[d] ? measure(i.daily[d]) : 0),
      (values) => values.reduce((s, v) => s.plus(v), new Money(0)),
      (total, n) => total.div(n),
    );
  const projectCost = (used: Decimal, pace: DailyPace<Decimal>) => (pace.basis === 'first_day' ? used : used.plus(pace.average.times(remainingDays)));
  // On the first day a pace is minutes of data: no date is projected from it (a limit already reached still is).
  const paceForDates = (pace: DailyPace<Decimal>) => (pace.basis === 'first_day' ? new Money(0) : pace.average);

  const usage_percentages: Record<string, number> = {};
  const projected_percentages: Record<string, number> = {};
  const projected_limit_dates: Record<string, string | null> = {};
  for (const [limit, value] of Object.entries(i.limits)) {
    const subject = typeof value === 'number' ? limitSubject(limit) : null;
    if (!subject) continue;
    if (subject.measure === 'cost') {
      const measure = (t: UsageTotals) => usageOfLimit(limit, t);
      const used = measure(i.totals);
      const pace = costPace(measure);
      usage_percentages[limit] = pct(used, value);
      projected_percentages[limit] = pct(projectCost(used, pace), value);
      projected_limit_dates[limit] = limitDate(i, limit, value, used, paceForDates(pace), firstDay, today);
      continue;
    }
    const count = (t: UsageTotals) => countOf(subject, t);
    const used = count(i.totals);
    const pace = countPace(count);
    if (used === 0 && pace.average === 0) {
      usage_percentages[limit] = 0;
      projected_percentages[limit] = 0;
      projected_limit_dates[limit] = null;
      continue;
    }
    usage_percentages[limit] = pct(new Money(used), value);
    projected_percentages[limit] = pct(new Money(projectCount(used, pace, remainingDays)), value);
    projected_limit_dates[limit] = limitDate(i, limit, value, new Money(used), paceForDates({ ...pace, average: new Money(pace.average) }), firstDay, today);
  }
  const costLimit = i.limits.monthly_cost;
  const cost = costPace((t) => t.cost);
  const projectedCost = projectCost(new Money(i.totals.cost), cost);
  const calls = countPace((t) => t.calls);
  const tokens = countPace((t) => t.tokens);
  const projected_usage_percentage =
    typeof costLimit === 'number' ? pct(projectedCost, costLimit) : Object.keys(projected_percentages).length ? Math.max(...Object.values(projected_percentages)) : null;

  return {
    basis: calls.basis,
    days_elapsed: Math.round(elapsedDays * 100) / 100,
    days_remaining: Math.round(remainingDays * 100) / 100,
    averaging_days: calls.days,
    avg_daily_calls: round2n(calls.average),
    avg_daily_tokens: round2n(tokens.average),
    avg_daily_cost: costToJson(cost.average),
    projected_calls: round2n(projectCount(i.totals.calls, calls, remainingDays)),
    projected_tokens: round2n(projectCount(i.totals.tokens, tokens, remainingDays)),
    projected_cost: projectedCost,
    usage_percentages,
    projected_percentages,
    projected_limit_dates,
    projected_usage_percentage,
    usage_trend: usageTrend(i.daily, today),
  };
}

/**
 * When the limit is (or will be) reached: already reached, the day it happened (from the daily totals); otherwise
 * now plus the days the remaining headroom lasts at the average pace, when that falls before the period ends.
 */
function limitDate(i: OutlookInput, limit: string, value: number, used: Decimal, avg: Decimal, firstDay: string, today: string): string | null {
  if (value <= 0) return null;
  if (used.gte(value)) {
    let cumulative = new Money(0);
    for (const k of daysBetween(firstDay, today)) {
      const t = i.daily[k];
      if (t) cumulative = cumulative.plus(usageOfLimit(limit, t));
      if (cumulative.gte(value)) return `${k}T00:00:00.000Z`;
    }
    return `${today}T00:00:00.000Z`;
  }
  if (avg.lte(0)) return null;
  const days = new Money(value).minus(used).div(avg).toNumber();
  const at = i.now.getTime() + days * DAY_MS;
  return at <= i.periodEnd.getTime() ? new Date(Math.ceil(at)).toISOString() : null;
}

export interface PlanSummary {
  plan_id: string;
  name: string;
  monthly_price: string;
  limits: Record<string, number>;
}

export type Recommendation =
  | {
      type: 'upgrade_plan';
      plan_id: string;
      plan_name: string;
      monthly_price: number;
      message: string;
      reasons: Array<{ limit: string; usage_percentage: number; projected_percentage: number }>;
      /** What the next plan gives for each limit that triggered it (null: unlimited). */
      adds: Record<string, number | null>;
    }
  | { type: 'highest_plan'; message: string; reasons: Array<{ limit: string; usage_percentage: number; projected_percentage: number }> }
  | { type: 'optimize_prompts'; message: string; average_tokens_per_call: number };

/** The second specification's recommendations, by the rules stated above. */
export function recommendations(o: Outlook, totals: UsageTotals, current: PlanSummary | null, next: PlanSummary | null): Recommendation[] {
  const out: Recommendation[] = [];
  const reasons = Object.keys(o.usage_percentages)
    .filter((l) => o.usage_percentages[l] > UPGRADE_USED_PERCENT || o.projected_percentages[l] > UPGRADE_PROJECTED_PERCENT)
    .map((limit) => ({ limit, usage_percentage: o.usage_percentages[limit], projected_percentage: o.projected_percentages[limit] }));
  if (reasons.length) {
    if (next) {
      const adds: Record<string, number | null> = {};
      for (const r of reasons) adds[r.limit] = typeof next.limits[r.limit] === 'number' ? next.limits[r.limit] : null;
      const what = reasons
        .map((r) => `${describeLimitValue(r.limit, adds[r.limit])} (now ${r.usage_percentage}% used, ${r.projected_percentage}% projected${current && typeof current.limits[r.limit] === 'number' ? ` of ${describeLimitValue(r.limit, current.limits[r.limit])}` : ''})`)
        .join('; ');
      out.push({
        type: 'upgrade_plan',
        plan_id: next.plan_id,
        plan_name: next.name,
        monthly_price: Number(next.monthly_price),
        message: `Upgrade to ${next.name} (${formatUsd(next.monthly_price)}/month): ${what}.`,
        reasons,
        adds,
      });
    } else {
      out.push({ type: 'highest_plan', message: 'You are on the highest plan and near a limit: contact us to raise it.', reasons });
    }
  }
  if (totals.calls > 0) {
    const perCall = totals.tokens / totals.calls;
    if (perCall > OPTIMIZE_TOKENS_PER_CALL) {
      const avg = Math.round(perCall * 100) / 100;
      out.push({
        type: 'optimize_prompts',
        message: `Your calls average ${formatCount(avg)} tokens; shorter prompts, trimmed context and response caching would lower cost.`,
        average_tokens_per_call: avg,
      });
    }
  }
  return out;
}

function describeLimitValue(limit: string, value: number | null): string {
  const s = limitSubject(limit);
  if (value === null) return `unlimited ${limit.replace(/_/g, ' ')}`;
  if (s?.measure === 'cost') return `${formatUsd(value)} monthly cost`;
  return `${formatCount(value)} ${limit.replace(/_/g, ' ')}`;
}
