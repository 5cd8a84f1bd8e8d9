import { Money } from '../../../libs/money';
import type { UsageVector } from '../../metering';
import { PER, PriceComponents, PriceValue, isTiered } from './price';

/**
 * The cost of one call: usage vector x price components, in exact decimals. It follows @pydantic/genai-prices:
 * - `input_tokens` is the whole prompt; cache reads and cache writes are billed at their own rates when the price
 *   has them (and are taken out of the input tokens), otherwise as input;
 * - reasoning tokens are part of `output_tokens`; billed at `output_reasoning_mtok` when priced, otherwise as output;
 * - a tiered rate uses the price of the last tier whose start the whole prompt is above (`input_tokens > start`);
 * - `unit` is per billed unit (search, page, image), `requests_kcount` per thousand calls.
 * Components the vector cannot carry (audio, image tokens...) cost nothing here.
 */
export function costOf(components: PriceComponents, usage: UsageVector): Money {
  const has = (k: string) => components[k] !== undefined;
  const n = (x: number | undefined) => Math.max(0, x ?? 0);
  const cacheRead = has('cache_read_mtok') ? n(usage.cache_read_tokens) : 0;
  const cacheWrite = has('cache_write_mtok') ? n(usage.cache_write_tokens) : 0;
  const prompt = Math.max(n(usage.input_tokens), cacheRead + cacheWrite);
  const reasoning = has('output_reasoning_mtok') ? Math.min(n(usage.reasoning_tokens), n(usage.output_tokens)) : 0;
  const quantities: Record<string, number> = {
    input_mtok: prompt - cacheRead - cacheWrite,
    cache_read_mtok: cacheRead,
    cache_write_mtok: cacheWrite,
    output_mtok: n(usage.output_tokens) - reasoning,
    output_reasoning_mtok: reasoning,
    requests_kcount: 1,
    unit: n(usage.units),
  };
  let total = new Money(0);
  for (const [key, per] of Object.entries(PER)) {
    const price = components[key];
    const quantity = quantities[key];
    if (price === undefined || !quantity) continue;
    total = total.plus(new Money(rateFor(price, prompt)).times(quantity).div(per));
  }
  return total;
}

/** The rate of a (possibly tiered) component for a prompt of `promptTokens`. */
export function rateFor(price: PriceValue, promptTokens: number): string {
  if (!isTiered(price)) return price;
  let rate = price.base;
  for (const tier of [...price.tiers].sort((a, b) => a.start - b.start)) if (promptTokens > tier.start) rate = tier.price;
  return rate;
}
