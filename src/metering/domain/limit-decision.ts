import { costToJson, Money } from '../../../libs/money';
import { Counter, UsageTotals } from './usage-totals';

/** What the call may use at worst, known before it runs: one call, its prompt's tokens plus its maximum output, and their cost. */
export interface PlannedCall {
  provider: string;
  tokens: number;
  cost: Money;
}

/** Usage in the period: recorded calls, and calls in flight that hold a reservation. */
export interface PeriodUsageState {
  counted: UsageTotals;
  reserved: UsageTotals;
}

export interface LimitRefusal {
  limit: string;
  limit_value: number;
  /** Usage of that limit (counted + reserved). */
  used: number;
  /** What the call would add. */
  requested: number;
  period_end: string;
  message: string;
  retry_after_seconds: number;
}

export type LimitDecision = { ok: true; remaining: Record<string, number> } | { ok: false; refusal: LimitRefusal };

type Measure = 'calls' | 'tokens' | 'cost';

/** How a limit key reads: which counter (total or one provider's) and which measure. Null: not a usage limit. */
export function parseLimitKey(key: string): Readonly<{ scope: 'total' | string; measure: Measure }> | null {
  let parsed = parsedKeys.get(key);
  if (parsed === undefined) {
    parsed = readLimitKey(key);
    // Limit keys come from plans: a handful. The bound only keeps a stream of odd keys from growing the map.
    if (parsedKeys.size < 10_000) parsedKeys.set(key, parsed);
  }
  return parsed;
}

const parsedKeys = new Map<string, Readonly<{ scope: string; measure: Measure }> | null>();

function readLimitKey(key: string): Readonly<{ scope: string; measure: Measure }> | null {
  if (key === 'monthly_cost') return Object.freeze({ scope: 'total', measure: 'cost' as Measure });
  const m = /^([a-z0-9]+)_(calls|tokens)$/.exec(key);
  if (!m) return null;
  return Object.freeze({ scope: m[1], measure: m[2] as Measure });
}

const MEASURE_ORDER: Record<Measure, number> = { calls: 0, tokens: 2, cost: 4 };

/** Limits are checked in this order, so the refusal names the most specific limit first. */
function order(key: string): number {
  const parsed = parseLimitKey(key)!;
  return MEASURE_ORDER[parsed.measure] + (parsed.scope === 'total' ? 1 : 0);
}

function amount(c: Counter, m: Measure): Money {
  return m === 'cost' ? c.cost : new Money(m === 'calls' ? c.calls : c.tokens);
}

const NO_COUNTER: Counter = Object.freeze({ calls: 0, tokens: 0, cost: new Money(0) }) as Counter;

/**
 * The limit decision, pure: a call is refused when a limit that applies to it (its provider's calls and tokens, total
 * calls and tokens, monthly_cost) is already reached, or would be broken by what the call is known to add. Usage over
 * a limit (after a downgrade) leaves 0 remaining. `remaining` is the headroom of every limit after this call.
 * Calls and tokens are integers and compare as numbers (exact below 2^53); cost, and any fractional limit, compare
 * as exact decimals.
 */
export function decideAdmission(state: PeriodUsageState, limits: Record<string, number>, call: PlannedCall, period: { period_end: string; now: Date }): LimitDecision {
  const remaining: Record<string, number> = {};
  const keys = Object.keys(limits).filter((k) => parseLimitKey(k) && typeof limits[k] === 'number' && Number.isFinite(limits[k]) && limits[k] >= 0);
  if (keys.length > 1) keys.sort((a, b) => order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0));
  for (const key of keys) {
    const { scope, measure } = parseLimitKey(key)!;
    const limit = limits[key];
    const counted = scope === 'total' ? state.counted.total : (state.counted.providers[scope] ?? NO_COUNTER);
    const reserved = scope === 'total' ? state.reserved.total : (state.reserved.providers[scope] ?? NO_COUNTER);
    const applies = scope === 'total' || scope === call.provider;
    if (measure !== 'cost' && Number.isSafeInteger(limit)) {
      const used = measure === 'calls' ? counted.calls + reserved.calls : counted.tokens + reserved.tokens;
      const requested = !applies ? 0 : measure === 'calls' ? 1 : call.tokens;
      if (Number.isSafeInteger(used + requested)) {
        if (applies && (used >= limit || used + requested > limit)) {
          return { ok: false, refusal: refusal(key, limit, measure, new Money(used), new Money(requested), period) };
        }
        remaining[key] = Math.max(0, limit - used - requested);
        continue;
      }
    }
    const value = new Money(limit);
    const used = amount(counted, measure).plus(amount(reserved, measure));
    const requested = !applies ? new Money(0) : measure === 'calls' ? new Money(1) : measure === 'tokens' ? new Money(call.tokens) : call.cost;
    if (applies && (used.gte(value) || used.plus(requested).gt(value))) {
      return { ok: false, refusal: refusal(key, limit, measure, used, requested, period) };
    }
    const left = Money.max(0, value.minus(used).minus(requested));
    remaining[key] = measure === 'cost' ? costToJson(left) : left.toNumber();
  }
  return { ok: true, remaining };
}

function refusal(limit: string, limitValue: number, measure: Measure, used: Money, requested: Money, period: { period_end: string; now: Date }): LimitRefusal {
  const fmt = (v: Money) => (measure === 'cost' ? `$${costToJson(v)}` : v.toNumber().toLocaleString('en-US'));
  const value = measure === 'cost' ? `$${limitValue}` : limitValue.toLocaleString('en-US');
  const usedText = `${fmt(used)} ${used.eq(1) && measure !== 'cost' ? 'is' : 'are'} used`;
  const adds = used.gte(limitValue) ? '' : `, and this call would add ${fmt(requested)}`;
  const message = `Usage limit reached: ${limit} is ${value} per period and ${usedText}${adds}; the period ends ${period.period_end}.`;
  const retry = Math.max(1, Math.ceil((new Date(period.period_end).getTime() - period.now.getTime()) / 1000));
  return {
    limit,
    limit_value: limitValue,
    used: measure === 'cost' ? costToJson(used) : used.toNumber(),
    requested: measure === 'cost' ? costToJson(requested) : requested.toNumber(),
    period_end: period.period_end,
    message,
    retry_after_seconds: retry,
  };
}
