import { Money } from '../../../libs/money';
import { FALLBACK_MODEL, PriceValue, isTiered } from '../domain/price';
import { PriceEntry } from '../domain/price-catalog';

/** A price as the API shows it: rates as JSON numbers (USD), the exact components beside them. */
export function priceView(e: PriceEntry) {
  const c = e.components;
  const rate = (k: string) => (c[k] === undefined ? null : new Money(isTiered(c[k]) ? (c[k] as { base: string }).base : (c[k] as string)).toNumber());
  const tiers: Record<string, { above_input_tokens: number; price: number }[]> = {};
  for (const [k, v] of Object.entries(c)) if (isTiered(v)) tiers[k] = v.tiers.map((t) => ({ above_input_tokens: t.start, price: new Money(t.price).toNumber() }));
  return {
    model: e.model,
    fallback: e.model === FALLBACK_MODEL,
    input_per_million: rate('input_mtok'),
    output_per_million: rate('output_mtok'),
    cache_read_per_million: rate('cache_read_mtok'),
    cache_write_per_million: rate('cache_write_mtok'),
    reasoning_per_million: rate('output_reasoning_mtok'),
    per_unit: rate('unit'),
    per_thousand_requests: rate('requests_kcount'),
    tiers,
    prices: exactComponents(c),
    effective_from: e.effective_from,
    price_version: e.version,
    source: e.source,
  };
}

function exactComponents(c: Record<string, PriceValue>): Record<string, PriceValue> {
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v]));
}
