import { Money } from '../../../libs/money';

/** What counts against a plan's limits: calls, tokens (input + output) and exact cost. */
export interface Counter {
  calls: number;
  tokens: number;
  cost: Money;
}

/** Usage of one user in one period, in total and per provider. */
export interface UsageTotals {
  total: Counter;
  providers: Record<string, Counter>;
}

export const emptyCounter = (): Counter => ({ calls: 0, tokens: 0, cost: new Money(0) });
export const emptyTotals = (): UsageTotals => ({ total: emptyCounter(), providers: {} });

/** The amounts one call adds (or a reservation holds). */
export interface UsageDelta {
  provider: string;
  calls: number;
  tokens: number;
  cost: Money;
}

/** Adds (sign 1) or removes (sign -1) a delta, in place: the ledger's hot path avoids copying. */
export function applyDelta(totals: UsageTotals, d: UsageDelta, sign: 1 | -1 = 1): UsageTotals {
  const p = (totals.providers[d.provider] ??= emptyCounter());
  for (const c of [totals.total, p]) {
    c.calls += sign * d.calls;
    c.tokens += sign * d.tokens;
    c.cost = sign === 1 ? c.cost.plus(d.cost) : c.cost.minus(d.cost);
  }
  return totals;
}

/** Tokens that count against token limits: the whole prompt plus the output (reasoning is part of the output). */
export const countedTokens = (u: { input_tokens?: number; output_tokens?: number }) => (u.input_tokens ?? 0) + (u.output_tokens ?? 0);

/** One provider's counts in one period: shared by the usage_summaries document and the facade's period view. */
export interface ProviderCounts {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  units: number;
  tokens: number;
  /** Exact decimal string (USD). */
  cost: string;
  errors: number;
  refused: number;
}
