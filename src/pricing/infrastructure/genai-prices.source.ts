import * as fs from 'fs';
import * as path from 'path';
import * as genai from '@pydantic/genai-prices';
import { GENAI_PRICES_EFFECTIVE_FROM, GENAI_PROVIDERS } from '../domain/default-catalog';
import { MatchRule, PriceComponents, PriceValue, decimalOf } from '../domain/price';

/** One price of the package's data, as a catalog candidate. */
export interface GenaiPriceRow {
  provider: string;
  model: string;
  components: PriceComponents;
  match: MatchRule;
  effective_from: string;
  /** Identifies the price within the package's data: `genai-prices google/gemini-2.5-pro` (+ `@start_date`). */
  source_ref: string;
}

/** The shape of the package's provider data that Tollgate reads (its exported `Provider` type). */
export type GenaiProvider = Pick<genai.Provider, 'id' | 'models'>;

/** Reads the installed package's bundled data through its exported API (`findProvider`). */
export function installedGenaiProviders(): GenaiProvider[] {
  return Object.keys(GENAI_PROVIDERS)
    .map((id) => genai.findProvider({ providerId: id }))
    .filter((p): p is genai.Provider => p !== undefined);
}

export function genaiPricesVersion(): string {
  try {
    // The package does not export its package.json; read it beside the entry point.
    const file = path.join(path.dirname(require.resolve('@pydantic/genai-prices')), '..', 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Converts the package's data to catalog rows: each float price becomes the exact decimal of its shortest string form,
 * tiers and matching rules are kept; a price with a start date takes effect then (never before 2025-02-01, when the
 * catalog moves on from the specification's table), a price without one from 2025-02-01.
 */
export function genaiPriceRows(providers: GenaiProvider[] = installedGenaiProviders()): GenaiPriceRow[] {
  const rows: GenaiPriceRow[] = [];
  for (const p of providers) {
    const provider = GENAI_PROVIDERS[p.id];
    if (!provider) continue;
    for (const m of p.models) {
      const conditional = Array.isArray(m.prices) ? m.prices : [{ prices: m.prices }];
      for (const c of conditional) {
        const constraint = 'constraint' in c ? c.constraint : undefined;
        // Time-of-day prices (off-peak discounts) cannot be a dated catalog entry; none of Tollgate's providers has one.
        if (constraint && constraint.type !== 'start_date') continue;
        const start = constraint ? `${constraint.start_date}T00:00:00.000Z` : GENAI_PRICES_EFFECTIVE_FROM;
        rows.push({
          provider,
          model: m.id.toLowerCase(),
          components: toComponents(c.prices),
          match: m.match as MatchRule,
          effective_from: Date.parse(start) < Date.parse(GENAI_PRICES_EFFECTIVE_FROM) ? GENAI_PRICES_EFFECTIVE_FROM : start,
          source_ref: `genai-prices ${p.id}/${m.id}${constraint ? `@${constraint.start_date}` : ''}`,
        });
      }
    }
  }
  return rows;
}

function toComponents(prices: genai.ModelPrice): PriceComponents {
  const out: PriceComponents = {};
  for (const [key, value] of Object.entries(prices)) {
    if (value === undefined) continue;
    out[key] = toValue(value);
  }
  return out;
}

function toValue(v: number | genai.TieredPrices): PriceValue {
  if (typeof v === 'number') return decimalOf(v);
  return { base: decimalOf(v.base), tiers: [...v.tiers].sort((a, b) => a.start - b.start).map((t) => ({ start: t.start, price: decimalOf(t.price) })) };
}
