import { DAY_MS } from './billing-period';

export type UsageTrend = 'increasing' | 'decreasing' | 'stable';

/** Tokens per UTC day (YYYY-MM-DD), for the days that had usage. */
export type DailyTokens = Record<string, number>;

export const dayKey = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Average tokens a day over the last 7 UTC days, today included. */
export function avgDailyUsage(daily: DailyTokens, now: Date): number {
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += daily[dayKey(now.getTime() - i * DAY_MS)] ?? 0;
  return sum / 7;
}

/** The last 3 days (today included) against the 3 before: more than 10 percent up or down, or stable. */
export function usageTrend(daily: DailyTokens, now: Date): UsageTrend {
  const window = (from: number) => [0, 1, 2].reduce((s, i) => s + (daily[dayKey(now.getTime() - (from + i) * DAY_MS)] ?? 0), 0);
  const recent = window(0);
  const before = window(3);
  if (before === 0) return recent > 0 ? 'increasing' : 'stable';
  const change = (recent - before) / before;
  return change > 0.1 ? 'increasing' : change < -0.1 ? 'decreasing' : 'stable';
}

export function daysRemaining(periodEnd: string, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(periodEnd) - now.getTime()) / DAY_MS));
}

export const round2 = (n: number) => Math.round(n * 100) / 100;
