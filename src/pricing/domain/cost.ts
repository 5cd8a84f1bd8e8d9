import { Money, plainDecimal, scaledToExact } from '../../../libs/money';
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
  return new Money(costExact(components, usage));
}

/** costOf as its exact decimal string ("0.000045"), as events and JSON carry it. */
export function costExact(components: PriceComponents, usage: UsageVector): string {
  return costString(components, usage) ?? costOfDecimal(components, usage).toFixed();
}

/**
 * The same cost as an exact decimal string ("0.0000245"), computed in integers: each plain (untiered) rate is an
 * integer count of 10^-scale USD per token or unit, so a call's cost is a sum of integer products. Null when a rate
 * is tiered, a quantity is fractional, or a product or the sum would leave the safe-integer range (then costOf sums
 * in decimal.js).
 */
export function costString(components: PriceComponents, usage: UsageVector): string | null {
  const c = compiled(components);
  if (!c) return null;
  const q = quantities(components, usage);
  let total = 0;
  for (const t of c.terms) {
    const quantity = q[t.key];
    if (!quantity) continue;
    if (!Number.isInteger(quantity)) return null;
    const term = t.units * quantity;
    total += term;
    if (term > Number.MAX_SAFE_INTEGER || total > Number.MAX_SAFE_INTEGER) return null;
  }
  return scaledToExact(total, c.scale);
}

/** The integer form of a price's rates: `units` of 10^-scale USD per token (or per unit, per call). */
interface CompiledPrice {
  scale: number;
  terms: { key: string; units: number }[];
}

const compiledPrices = new WeakMap<PriceComponents, CompiledPrice | null>();

function compiled(components: PriceComponents): CompiledPrice | null {
  let c = compiledPrices.get(components);
  if (c === undefined) {
    c = compile(components);
    compiledPrices.set(components, c);
  }
  return c;
}

function compile(components: PriceComponents): CompiledPrice | null {
  const parsed: { key: string; digits: string; scale: number }[] = [];
  for (const [key, per] of Object.entries(PER)) {
    const price = components[key];
    if (price === undefined) continue;
    if (typeof price !== 'string') return null;
    const plain = plainDecimal(price);
    if (!plain) return null;
    // price / per: per is 1, 10^3 or 10^6, so dividing only moves the decimal point.
    parsed.push({ key, digits: plain.digits, scale: plain.scale + String(per).length - 1 });
  }
  const scale = Math.max(0, ...parsed.map((p) => p.scale));
  const terms = parsed.map((p) => ({ key: p.key, units: Number(p.digits + '0'.repeat(scale - p.scale)) }));
  return terms.every((t) => Number.isSafeInteger(t.units)) ? { scale, terms } : null;
}

/** How many of each priced thing the usage bills. */
function quantities(components: PriceComponents, usage: UsageVector): Record<string, number> {
  const has = (k: string) => components[k] !== undefined;
  const n = (x: number | undefined) => Math.max(0, x ?? 0);
  const cacheRead = has('cache_read_mtok') ? n(usage.cache_read_tokens) : 0;
  const cacheWrite = has('cache_write_mtok') ? n(usage.cache_write_tokens) : 0;
  const prompt = Math.max(n(usage.input_tokens), cacheRead + cacheWrite);
  const reasoning = has('output_reasoning_mtok') ? Math.min(n(usage.reasoning_tokens), n(usage.output_tokens)) : 0;
  return {
    input_mtok: prompt - cacheRead - cacheWrite,
    cache_read_mtok: cacheRead,
    cache_write_mtok: cacheWrite,
    output_mtok: n(usage.output_tokens) - reasoning,
    output_reasoning_mtok: reasoning,
    requests_kcount: 1,
    unit: n(usage.units),
  };
}

/** The cost summed in decimal.js: tiered rates, and amounts beyond the integer path's range. */
function costOfDecimal(components: PriceComponents, usage: UsageVector): Money {
  const q = quantities(components, usage);
  const prompt = Math.max(q.input_mtok + q.cache_read_mtok + q.cache_write_mtok, 0);
  let total = new Money(0);
  for (const [key, per] of Object.entries(PER)) {
    const price = components[key];
    const quantity = q[key];
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
