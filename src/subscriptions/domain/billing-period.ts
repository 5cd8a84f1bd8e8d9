/**
 * Calendar-correct billing periods in UTC. A period starts at its anchor plus n months (or years), keeping the anchor's
 * time of day; the day is the anchor's day clamped to the month's last day, so a Jan 31 anchor gives Feb 28 (or 29),
 * then Mar 31 again; a yearly Feb 29 anchor gives Feb 28 in common years and Feb 29 again in leap years.
 */
export type BillingCycle = 'monthly' | 'yearly';

export interface Period {
  /** Index of the period from the anchor (0 = the period starting at the anchor; negative before it). */
  index: number;
  start: Date;
  end: Date;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** The start of period `n` counted from `anchor` (n may be negative). */
export function periodStart(anchor: Date, cycle: BillingCycle, n: number): Date {
  const months = cycle === 'monthly' ? n : n * 12;
  const total = anchor.getUTCFullYear() * 12 + anchor.getUTCMonth() + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month));
  return new Date(Date.UTC(year, month, day, anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds(), anchor.getUTCMilliseconds()));
}

/** Period `n` from the anchor. */
export function periodAt(anchor: Date, cycle: BillingCycle, n: number): Period {
  return { index: n, start: periodStart(anchor, cycle, n), end: periodStart(anchor, cycle, n + 1) };
}

/** The period that contains `at` (start inclusive, end exclusive). */
export function periodContaining(anchor: Date, cycle: BillingCycle, at: Date): Period {
  const monthsApart = (at.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (at.getUTCMonth() - anchor.getUTCMonth());
  let n = cycle === 'monthly' ? monthsApart : Math.floor(monthsApart / 12);
  // The estimate is off by at most one either way (day and time of day within the month).
  while (periodStart(anchor, cycle, n).getTime() > at.getTime()) n--;
  while (periodStart(anchor, cycle, n + 1).getTime() <= at.getTime()) n++;
  return periodAt(anchor, cycle, n);
}

export const DAY_MS = 86_400_000;
