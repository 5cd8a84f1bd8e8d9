import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { costToJson, exactString, Money } from '../../../libs/money';
import { UsageTotals } from '../../alerts';
import { dayKey, daysBetween, minusMonths, monthKey, monthsBetween } from '../domain/calendar';
import { UsageDaysReader } from './usage-days.reader';

export type Granularity = 'day' | 'month';

interface Figures {
  calls: number;
  tokens: number;
  units: number;
  cost: number;
  cost_exact: string;
}

export interface TrendBucket extends Figures {
  /** "YYYY-MM-DD" (day) or "YYYY-MM" (month). */
  start: string;
  providers: Record<string, Figures>;
}

/**
 * Trends: zero-filled series of calls, tokens, units and cost, in total and per provider. The span starts on the first
 * day of the month `months` months before the current one (so at least `months` whole months back) and ends today;
 * a month series has one bucket per calendar month of that span, a day series one per day. Both come from the same
 * daily buckets, so they sum to the same totals.
 */
@Injectable()
export class TrendsQuery {
  constructor(
    private readonly reader: UsageDaysReader,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async trends(tenantId: string, userId: string, granularity: Granularity, months: number) {
    const now = this.clock.now();
    const to = dayKey(now);
    const start = minusMonths(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)), months);
    const from = dayKey(start);
    const daily = await this.reader.days(tenantId, userId, from, to);
    const providers = [...new Set(Object.values(daily).flatMap((d) => Object.keys(d.providers)))].sort();
    const keys = granularity === 'day' ? daysBetween(from, to) : monthsBetween(monthKey(start), monthKey(now));
    const groups = new Map<string, UsageTotals[]>(keys.map((k) => [k, []]));
    for (const [day, t] of Object.entries(daily)) groups.get(granularity === 'day' ? day : day.slice(0, 7))?.push(t);
    const series: TrendBucket[] = keys.map((k) => ({ start: k, ...bucket(groups.get(k)!, providers) }));
    const totals = bucket(Object.values(daily), providers);
    return { user_id: userId, granularity, months, from, to, provider_ids: providers, series, totals };
  }
}

function bucket(days: UsageTotals[], providers: string[]): Figures & { providers: Record<string, Figures> } {
  const total = acc();
  const per: Record<string, ReturnType<typeof acc>> = Object.fromEntries(providers.map((p) => [p, acc()]));
  for (const d of days) {
    total.add(d);
    for (const [p, v] of Object.entries(d.providers)) per[p]?.add(v);
  }
  return { ...total.out(), providers: Object.fromEntries(providers.map((p) => [p, per[p].out()])) };
}

function acc() {
  let calls = 0;
  let tokens = 0;
  let units = 0;
  let cost = new Money(0);
  return {
    add(t: { calls: number; tokens: number; units: number; cost: string }) {
      calls += t.calls;
      tokens += t.tokens;
      units += t.units;
      cost = cost.plus(t.cost);
    },
    out: (): Figures => ({ calls, tokens, units, cost: costToJson(cost), cost_exact: exactString(cost) }),
  };
}
