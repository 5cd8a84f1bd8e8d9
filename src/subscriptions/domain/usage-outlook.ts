import { DAY_MS } from './billing-period';

/**
 * The one definition of a user's daily average, projection and trend, used by `/api/subscription/status`, the
 * dashboard's JSON and the page (which shows the dashboard's). Days are UTC calendar days ("YYYY-MM-DD").
 *
 * - avg_daily_usage: the usage of the last 7 *complete* days (yesterday and the 6 before), not before the period's
 *   first day, divided by the number of those days. Today is left out: a part of a day would pull the average down
 *   every morning.
 * - On the period's first day there is no complete day yet: the basis is `first_day`, the average is the usage so far
 *   today, and the projection is the usage so far (minutes of data are not extrapolated to a month).
 * - projection: the usage so far plus the average times the time left in the period (in days, with fractions).
 * - usage_trend: the last 3 complete days against the 3 before, in tokens (calls when those six days had no tokens:
 *   search, scrape and image calls carry none): more than 10 percent up is `increasing`, down is `decreasing`. The
 *   trend looks back past the period's start (a renewal does not make a user's pace "new").
 */
export const AVERAGE_WINDOW_DAYS = 7;
export const TREND_WINDOW_DAYS = 3;
export const TREND_CHANGE = 0.1;
export const PROJECTION_METHOD = 'usage_so_far + average_daily_usage_of_last_7_complete_days * days_remaining';

export type UsageTrend = 'increasing' | 'decreasing' | 'stable';
/** `complete_days`: averaged over 1 to 7 complete days; `first_day`: the period's first day, not yet a pace. */
export type ProjectionBasis = 'complete_days' | 'first_day';

/** One day's counts (a missing day is zero). */
export interface DayCounts {
  calls: number;
  tokens: number;
}

export const dayKey = (t: number | Date) => new Date(t).toISOString().slice(0, 10);
export const addDays = (day: string, n: number) => dayKey(Date.parse(`${day}T00:00:00.000Z`) + n * DAY_MS);

/** The complete days the average is taken over, oldest first: at most 7, none before the period's first day. */
export function averagingDays(today: string, periodFirstDay: string): string[] {
  const out: string[] = [];
  for (let n = AVERAGE_WINDOW_DAYS; n >= 1; n--) {
    const k = addDays(today, -n);
    if (k >= periodFirstDay) out.push(k);
  }
  return out;
}

export interface DailyPace<T> {
  basis: ProjectionBasis;
  /** How many complete days the average is over (0 on the first day). */
  days: number;
  average: T;
}

/**
 * The daily average of one measure, generic over the number type (counts as numbers, cost as a Decimal): `sum` adds
 * the values of the averaging days, `divide` divides by their count.
 */
export function dailyPace<T>(today: string, periodFirstDay: string, valueOf: (day: string) => T, sum: (values: T[]) => T, divide: (total: T, days: number) => T): DailyPace<T> {
  const days = averagingDays(today, periodFirstDay);
  if (!days.length) return { basis: 'first_day', days: 0, average: valueOf(today) };
  return { basis: 'complete_days', days: days.length, average: divide(sum(days.map(valueOf)), days.length) };
}

/** The daily average of a count (calls, tokens, units). */
export const dailyCountPace = (today: string, periodFirstDay: string, valueOf: (day: string) => number): DailyPace<number> =>
  dailyPace(today, periodFirstDay, valueOf, (v) => v.reduce((s, x) => s + x, 0), (t, n) => t / n);

/** The period's projected total of a count: so far, plus the average over the days left (none on the first day). */
export const projectCount = (used: number, pace: DailyPace<number>, daysLeft: number): number => (pace.basis === 'first_day' ? used : used + pace.average * daysLeft);

/** The last 3 complete days against the 3 before, in tokens, or in calls when the six days had no tokens. */
export function usageTrend(daily: Record<string, DayCounts | undefined>, today: string): UsageTrend {
  const window = (from: number, measure: keyof DayCounts) => {
    let s = 0;
    for (let j = 0; j < TREND_WINDOW_DAYS; j++) s += daily[addDays(today, -(from + j))]?.[measure] ?? 0;
    return s;
  };
  const tokens = window(1, 'tokens') + window(1 + TREND_WINDOW_DAYS, 'tokens') > 0;
  const measure: keyof DayCounts = tokens ? 'tokens' : 'calls';
  const recent = window(1, measure);
  const before = window(1 + TREND_WINDOW_DAYS, measure);
  if (before === 0) return recent > 0 ? 'increasing' : 'stable';
  const change = (recent - before) / before;
  return change > TREND_CHANGE ? 'increasing' : change < -TREND_CHANGE ? 'decreasing' : 'stable';
}

/** Time left in the period, in days with fractions (what projections multiply by). */
export const daysLeft = (periodEnd: string | Date, now: Date): number => Math.max(0, (new Date(periodEnd).getTime() - now.getTime()) / DAY_MS);

/** Whole days left, rounded up (the status's days_remaining_in_period). */
export const daysRemaining = (periodEnd: string, now: Date): number => Math.ceil(daysLeft(periodEnd, now));

export const round2 = (n: number) => Math.round(n * 100) / 100;
