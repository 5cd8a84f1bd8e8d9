import Decimal from 'decimal.js';
import { Money, plusExact } from '../../../libs/money';

/** Usage totals of one user in one period, as the alerts and the dashboard count them. */
export interface UsageTotals {
  calls: number;
  /** input_tokens + output_tokens (input includes cache reads and writes; output includes reasoning). */
  tokens: number;
  units: number;
  /** Exact decimal string, USD. */
  cost: string;
  providers: Record<string, { calls: number; tokens: number; units: number; cost: string }>;
}

export const emptyTotals = (): UsageTotals => ({ calls: 0, tokens: 0, units: 0, cost: '0', providers: {} });

/** The share of one recorded call in the totals. */
export interface UsageIncrement {
  provider: string;
  tokens: number;
  units: number;
  cost: string;
}

/**
 * Adds one call to totals the caller owns, in place, and returns them: a projection's document inside its unit (one
 * object per user and batch, however many calls; a copy per call was most of what those projections allocated).
 */
export function addUsageInPlace<T extends UsageTotals>(t: T, inc: UsageIncrement): T {
  const p = (t.providers[inc.provider] ??= { calls: 0, tokens: 0, units: 0, cost: '0' });
  t.calls += 1;
  t.tokens += inc.tokens;
  t.units += inc.units;
  t.cost = plusExact(t.cost, inc.cost);
  p.calls += 1;
  p.tokens += inc.tokens;
  p.units += inc.units;
  p.cost = plusExact(p.cost, inc.cost);
  return t;
}

/**
 * What a plan limit measures. Keys: `total_calls`, `{provider}_calls`, `total_tokens`, `{provider}_tokens`,
 * `total_units`, `{provider}_units`, `monthly_cost` (USD). Null for a key Tollgate does not know how to count.
 */
export interface LimitSubject {
  /** Null for the totals over every provider. */
  readonly provider: string | null;
  readonly measure: 'calls' | 'tokens' | 'units' | 'cost';
}

const subjects = new Map<string, LimitSubject | null>();

/** What a limit key measures (read per recorded call by the alert watcher: parsed once per key). */
export function limitSubject(limitKey: string): LimitSubject | null {
  let s = subjects.get(limitKey);
  if (s === undefined) {
    s = parseLimitSubject(limitKey);
    if (subjects.size < 10_000) subjects.set(limitKey, s);
  }
  return s;
}

function parseLimitSubject(limitKey: string): LimitSubject | null {
  if (limitKey === 'monthly_cost' || limitKey === 'total_cost') return { provider: null, measure: 'cost' };
  const m = /^(.+)_(calls|tokens|units|cost)$/.exec(limitKey);
  if (!m) return null;
  const provider = m[1] === 'total' ? null : m[1];
  return { provider, measure: m[2] as LimitSubject['measure'] };
}

/**
 * The usage of one limit in the totals as stored: a count (calls, tokens, units) as a number, a cost as its exact
 * decimal string; 0 for a key Tollgate does not count or a provider without usage.
 */
export function limitUsage(limitKey: string, t: UsageTotals): number | string {
  const s = limitSubject(limitKey);
  const source = s && (s.provider === null ? t : t.providers[s.provider]);
  return source ? source[s!.measure] : 0;
}

/** The usage of one limit in the totals (a Decimal: exact for cost, whole for counts). */
export function usageOfLimit(limitKey: string, t: UsageTotals): Decimal {
  return new Money(limitUsage(limitKey, t));
}

const PROVIDER_NAMES: Record<string, string> = {
  gemini: 'Gemini',
  openai: 'OpenAI',
  anthropic: 'Anthropic',
  mistral: 'Mistral',
  tavily: 'Tavily',
  serper: 'Serper',
  exa: 'Exa',
  metaphor: 'Exa',
  firecrawl: 'Firecrawl',
  stability: 'Stability AI',
  huggingface: 'Hugging Face',
};

export function providerName(provider: string): string {
  return PROVIDER_NAMES[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1);
}

/** "4,000" (whole numbers; en-US grouping, independent of the host's locale data). */
export function formatCount(n: Decimal.Value): string {
  const d = new Money(n);
  const [int, frac] = d.toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed().split('.');
  const sign = int.startsWith('-') ? '-' : '';
  const digits = sign ? int.slice(1) : int;
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? '.' + frac : '');
}

/** "$1,234.50" (cents, half-even). */
export function formatUsd(n: Decimal.Value): string {
  const [int, frac] = new Money(n).toDecimalPlaces(2, Decimal.ROUND_HALF_EVEN).toFixed(2).split('.');
  return '$' + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' + frac;
}
