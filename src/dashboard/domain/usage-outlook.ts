import Decimal from 'decimal.js';
import { Money, costToJson } from '../../../libs/money';
import { formatCount, formatUsd, LimitSubject, limitSubject, UsageTotals, usageOfLimit } from '../../alerts';
import { addDays, DAY_MS, dayKey, daysBetween } from './calendar';

/**
 * How the dashboard projects, stated once. The daily average is taken over the last 7 complete UTC days of the
 * period (fewer at its start; before a day is complete, the usage so far over the time elapsed, counted as at least
 * one day). The projection for the whole period is the usage so far plus that average over the days remaining.
 */
export const PROJECTION_METHOD = 'usage_so_far + average_daily_usage_of_last_7_complete_days * days_remaining';
export const AVERAGE_WINDOW_DAYS = 7;
/** usage_trend compares the last 3 complete days with the 3 before; a change above 10 percent is a trend. */
export const TREND_WINDOW_DAYS = 3;
export const TREND_CHANGE = 0.1;
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
  const yesterday = addDays(today, -1);
  const windowStart = [addDays(today, -AVERAGE_WINDOW_DAYS), firstDay].sort().pop()!;
  const window = windowStart <= yesterday ? daysBetween(windowStart, yesterday) : [];
  const windowTotals = window.map((k) => i.daily[k]).filter((t): t is UsageTotals => t !== undefined);

  // Counts are whole numbers (exact as doubles); only cost goes through Decimal.
  const averageCount = (measure: (t: UsageTotals) => number): number =>
    window.length ? windowTotals.reduce((s, t) => s + measure(t), 0) / window.length : measure(i.totals) / Math.max(1, elapsedDays);
  const averageCost = (measure: (t: UsageTotals) => Decimal.Value): Decimal =>
    window.length
      ? windowTotals.reduce((s, t) => s.plus(measure(t)), new Money(0)).div(window.length)
      : new Money(measure(i.totals)).div(Math.max(1, elapsedDays));

  const usage_percentages: Record<string, number> = {};
  const projected_percentages: Record<string, number> = {};
  const projected_limit_dates: Record<string, string | null> = {};
  for (const [limit, value] of Object.entries(i.limits)) {
    const subject = typeof value === 'number' ? limitSubject(limit) : null;
    if (!subject) continue;
    if (subject.measure === 'cost') {
      const measure = (t: UsageTotals) => usageOfLimit(limit, t);
      const used = measure(i.totals);
      const avg = averageCost(measure);
      usage_percentages[limit] = pct(used, value);
      projected_percentages[limit] = pct(used.plus(avg.times(remainingDays)), value);
      projected_limit_dates[limit] = limitDate(i, limit, value, used, avg, firstDay, today);
      continue;
    }
    const count = (t: UsageTotals) => countOf(subject, t);
    const used = count(i.totals);
    const avg = averageCount(count);
    if (used === 0 && avg === 0) {
      usage_percentages[limit] = 0;
      projected_percentages[limit] = 0;
      projected_limit_dates[limit] = null;
      continue;
    }
    usage_percentages[limit] = pct(new Money(used), value);
    projected_percentages[limit] = pct(new Money(used + avg * remainingDays), value);
    projected_limit_dates[limit] = limitDate(i, limit, value, new Money(used), new Money(avg), firstDay, today);
  }
  const costLimit = i.limits.monthly_cost;
  const cost = (t: UsageTotals) => t.cost;
  const avgCost = averageCost(cost);
  const projectedCost = new Money(i.totals.cost).plus(avgCost.times(remainingDays));
  const avgCalls = averageCount((t) => t.calls);
  const avgTokens = averageCount((t) => t.tokens);
  const projected_usage_percentage =
    typeof costLimit === 'number' ? pct(projectedCost, costLimit) : Object.keys(projected_percentages).length ? Math.max(...Object.values(projected_percentages)) : null;

  return {
    days_elapsed: Math.round(elapsedDays * 100) / 100,
    days_remaining: Math.round(remainingDays * 100) / 100,
    averaging_days: window.length,
    avg_daily_calls: round2n(avgCalls),
    avg_daily_tokens: round2n(avgTokens),
    avg_daily_cost: costToJson(avgCost),
    projected_calls: round2n(i.totals.calls + avgCalls * remainingDays),
    projected_tokens: round2n(i.totals.tokens + avgTokens * remainingDays),
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

/** Calls of the last 3 complete days against the 3 before: more than 10 percent up or down is a trend. */
export function usageTrend(daily: Record<string, UsageTotals>, today: string): 'increasing' | 'decreasing' | 'stable' {
  const sumDays = (fromBack: number, n: number) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += daily[addDays(today, -(fromBack + j))]?.calls ?? 0;
    return s;
  };
  const recent = sumDays(1, TREND_WINDOW_DAYS);
  const before = sumDays(1 + TREND_WINDOW_DAYS, TREND_WINDOW_DAYS);
  if (before === 0) return recent > 0 ? 'increasing' : 'stable';
  const change = (recent - before) / before;
  if (change > TREND_CHANGE) return 'increasing';
  if (change < -TREND_CHANGE) return 'decreasing';
  return 'stable';
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
