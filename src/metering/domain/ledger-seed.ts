import { Money } from '../../../libs/money';
import { Counter, UsageTotals } from './usage-totals';

/** What a period's usage summary holds of the counted usage (recorded calls; refusals are counted elsewhere). */
export interface CountedSummary {
  total_calls: number;
  total_tokens: number;
  /** Exact decimal string. */
  total_cost: string;
  providers: Record<string, { calls: number; tokens: number; cost: string }>;
}

/**
 * Pure: the ledger's counted totals from a period's summary, as folding its UsageRecorded events one by one would
 * leave them. A provider seen only in refusals (no recorded call) has no counter, as in the fold; null when the
 * period has no recorded call at all (the fold would not know it either).
 */
export function countedFromSummary(s: CountedSummary): UsageTotals | null {
  if (!s.total_calls) return null;
  const providers: Record<string, Counter> = {};
  for (const [name, p] of Object.entries(s.providers ?? {})) {
    if (!p.calls) continue;
    providers[name] = { calls: p.calls, tokens: p.tokens, cost: new Money(p.cost) };
  }
  return { total: { calls: s.total_calls, tokens: s.total_tokens, cost: new Money(s.total_cost) }, providers };
}
