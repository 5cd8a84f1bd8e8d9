import { Money } from '../../../libs/money';

/**
 * A price's components, keyed like @pydantic/genai-prices' price keys (`input_mtok`, `output_mtok`, `cache_read_mtok`,
 * `cache_write_mtok`, `output_reasoning_mtok`, `requests_kcount`, ...) plus Tollgate's `unit` (USD per billed unit:
 * a search, a page, an image). Amounts are exact decimal strings; a tiered amount switches to a tier's price when the
 * whole prompt (`input_tokens`) is above the tier's start.
 */
export type PriceValue = string | TieredPriceValue;
export interface TieredPriceValue {
  base: string;
  tiers: { start: number; price: string }[];
}
export type PriceComponents = Record<string, PriceValue>;

/** genai-prices' model-matching rule, kept as the package states it. */
export type MatchRule =
  | { and: MatchRule[] }
  | { or: MatchRule[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

export type PriceSource = 'specification' | 'genai-prices' | 'litellm' | 'operator' | 'default';

/** The model key of a provider's fallback price: what an unknown model of that provider is priced by. */
export const FALLBACK_MODEL = '*';

/** `PriceSet`: a price for a provider's model (or unit) that takes effect at `effective_from`. Frozen shape. */
export interface PriceSetData {
  provider: string;
  /** The catalog key: a model id, a unit name (`search`, `scrape`, `image`) or `*` (the provider's fallback). */
  model: string;
  components: PriceComponents;
  /** genai-prices' matching rule for this key; absent keeps the key's earlier rule. */
  match?: MatchRule | null;
  effective_from: string;
  source: PriceSource;
  /** Where the numbers came from (`genai-prices@0.1.8 openai/gpt-4o`, `litellm gemini/gemini-2.5-pro`, ...). */
  source_ref: string | null;
  /** The price version that usage priced by this entry records. */
  version: string;
  /**
   * The model's maximum output tokens (LiteLLM's `max_output_tokens`): what admission reserves for a call that states
   * no maximum. Absent in most entries (and in every entry written before it existed): the built-in table applies.
   */
  max_output_tokens?: number;
}

export type PricingEvent = { type: 'PriceSet'; data: PriceSetData };
export const PRICING_EVENT_TYPES = ['PriceSet'] as const;

/** Stream of operator changes and imports for one catalog key. The default catalog is one seed stream. */
export const priceStreamId = (provider: string, model: string) => `price-${provider}/${model}`;
export const PRICE_SEED_STREAM = 'pricecatalog-seed';
/** The paid-work prices (images, server tools, Stability's endpoints), seeded once on a stream of their own. */
export const PAID_WORK_SEED_STREAM = 'pricecatalog-seed-paid-work';

/** Price keys Tollgate's usage vector can bill, with what one price unit is per. */
export const PER: Record<string, number> = {
  input_mtok: 1e6,
  output_mtok: 1e6,
  cache_read_mtok: 1e6,
  cache_write_mtok: 1e6,
  output_reasoning_mtok: 1e6,
  requests_kcount: 1e3,
  unit: 1,
};

/** Shortest exact decimal of a binary float price (`0.075`, not `0.07499999999999999722`). */
export function decimalOf(value: number | string): string {
  if (typeof value === 'string') {
    const d = new Money(value.trim());
    if (!d.isFinite() || d.isNegative()) throw new RangeError(`not a non-negative decimal: ${value}`);
    return d.toFixed();
  }
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`not a non-negative number: ${value}`);
  return new Money(String(value)).toFixed();
}

export function isTiered(v: PriceValue): v is TieredPriceValue {
  return typeof v === 'object' && v !== null;
}

/** Equality of two component maps as exact decimals. */
export function sameComponents(a: PriceComponents, b: PriceComponents): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return false;
  return ka.every((k) => samePrice(a[k], b[k]));
}

function samePrice(a: PriceValue, b: PriceValue): boolean {
  if (!isTiered(a) || !isTiered(b)) return !isTiered(a) && !isTiered(b) && new Money(a).eq(b);
  if (!new Money(a.base).eq(b.base) || a.tiers.length !== b.tiers.length) return false;
  return a.tiers.every((t, i) => t.start === b.tiers[i].start && new Money(t.price).eq(b.tiers[i].price));
}

export function sameMatch(a: MatchRule | null | undefined, b: MatchRule | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
