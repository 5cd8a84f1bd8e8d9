import { Injectable } from '@nestjs/common';
import { Money } from '../../../libs/money';
import { PricingException } from '../../../libs/errors';
import type { UsageVector } from '../../metering';
import { costExact } from '../domain/cost';
import { builtInMaxOutput } from '../domain/max-output';
import { PriceCatalogService } from './price-catalog.service';

/** What a call costs, and the price that said so. */
export interface PriceQuote {
  /** Exact cost in USD, as a Decimal (made when read: recording a call needs only `exact`). */
  readonly cost: Money;
  /** The same cost as an exact decimal string ("0.000045"), as events and JSON carry it. */
  exact: string;
  /** The version of the PriceSet used (`openai/gpt-4o@2025-02-01T00:00:00.000Z#1a2b3c4d`). */
  price_version: string;
  /** `fallback` when the model is unknown and the provider's fallback price was used. */
  price_source: 'catalog' | 'fallback';
  /** The catalog key the model resolved to (`*` for the fallback). */
  model_key: string;
}

class Quote implements PriceQuote {
  constructor(
    readonly exact: string,
    readonly price_version: string,
    readonly price_source: 'catalog' | 'fallback',
    readonly model_key: string,
  ) {}
  get cost(): Money {
    return new Money(this.exact);
  }
}

const ZERO_USAGE: UsageVector = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 };

/** Pricing's facade: synchronous, on the in-memory catalog. */
@Injectable()
export class PricingFacade {
  private readonly maxOutputs = new Map<string, number>();

  constructor(private readonly catalog: PriceCatalogService) {}

  /**
   * Prices a usage vector at the price in effect at `at`. Throws `pricing_error` for a provider without any price.
   * With `unitKey` (an image size and quality, a server tool, a crawl's pages) the units are priced by that catalog
   * key's `unit` price and the tokens by the model's; a unit key without a unit price throws (the call cannot be priced).
   * Without it, units are priced by the model's own `unit` price, as before.
   */
  quote(provider: string, model: string, usage: UsageVector, at: Date, unitKey?: string): PriceQuote {
    if (unitKey) return this.quoteWithUnitKey(provider, model, { ...ZERO_USAGE, ...usage }, at, unitKey);
    const r = this.catalog.catalog.resolve(provider, model ?? '', at);
    if (!r) throw new PricingException(`No price for provider "${provider}" at ${at.toISOString()}.`, { provider, model, at: at.toISOString() });
    return new Quote(costExact(r.entry.components, { ...ZERO_USAGE, ...usage }), r.entry.version, r.price_source, r.model_key);
  }

  /** The cost of the prompt alone (the pre-call check's estimate). */
  estimateInputCost(provider: string, model: string, inputTokens: number, at: Date): Money {
    return this.quote(provider, model, { ...ZERO_USAGE, input_tokens: inputTokens }, at).cost;
  }

  /**
   * Why a call that uses `units` cannot be priced, or null when it can: its unit key (or, without one, the price its
   * model resolves to) has no `unit` price in effect. Such a call is not forwarded until the operator sets the price.
   */
  unpricedUnits(provider: string, model: string, units: number, at: Date, unitKey?: string): { price_key: string } | null {
    if (!units) return null;
    if (unitKey) return this.unitRate(provider, model, unitKey, at) ? null : { price_key: unitKey };
    const r = this.catalog.catalog.resolve(provider, model ?? '', at);
    return r && r.entry.components.unit !== undefined ? null : { price_key: model || '*' };
  }

  /**
   * The most output tokens `model` generates when a request states no maximum: the resolved price's own
   * `max_output_tokens` (a LiteLLM import, the operator), else the built-in table (see domain/max-output.ts).
   */
  maxOutputTokens(provider: string, model: string, at: Date): number {
    const stated = this.catalog.catalog.resolve(provider, model ?? '', at)?.entry.max_output_tokens;
    if (stated) return stated;
    const key = provider + '\u0000' + model;
    let n = this.maxOutputs.get(key);
    if (n === undefined) {
      n = builtInMaxOutput(provider, model);
      if (this.maxOutputs.size < 10_000) this.maxOutputs.set(key, n);
    }
    return n;
  }

  /**
   * The USD price of one unit of `unitKey` for `model` at `at`: the model's own per-1,000 price where the maintained
   * data has one (genai-prices' `web_searches_kcount`), else the unit key's catalog price (usage dated before its first
   * price takes that first price). Null when neither exists.
   */
  private unitRate(provider: string, model: string, unitKey: string, at: Date): { rate: string; version: string } | null {
    const component = MODEL_UNIT_COMPONENTS[unitKey];
    if (component) {
      const r = this.catalog.catalog.resolve(provider, model ?? '', at);
      const perThousand = r?.entry.components[component];
      if (r && typeof perThousand === 'string') return { rate: new Money(perThousand).div(1000).toFixed(), version: r.entry.version };
    }
    const catalog = this.catalog.catalog;
    const e = catalog.priceAt(provider, unitKey, at) ?? catalog.history(provider, unitKey)[0] ?? null;
    const unit = e?.components.unit;
    return e && typeof unit === 'string' ? { rate: unit, version: e.version } : null;
  }

  private quoteWithUnitKey(provider: string, model: string, usage: UsageVector, at: Date, unitKey: string): PriceQuote {
    const unit = usage.units ? this.unitRate(provider, model, unitKey, at) : null;
    if (usage.units && !unit) throw new PricingException(`No price for ${provider} "${unitKey}": the operator sets it with PUT /api/admin/pricing/${provider}/${unitKey}.`, { provider, price_key: unitKey });
    // A settlement (an async job's credits against the worst case recorded at its start) may be negative.
    const unitCost = unit ? new Money(unit.rate).times(usage.units).toFixed() : '0';
    const tokens = usage.input_tokens || usage.output_tokens || usage.cache_read_tokens || usage.cache_write_tokens;
    if (!tokens) return new Quote(unitCost, unit ? unit.version : 'unpriced', 'catalog', unitKey);
    const t = this.quote(provider, model, { ...usage, units: 0 }, at);
    if (!unit) return t as Quote;
    const version = unit.version === t.price_version ? t.price_version : `${t.price_version}+${unit.version}`;
    return new Quote(new Money(t.exact).plus(unitCost).toFixed(), version, t.price_source, t.model_key);
  }
}

/** Unit keys a model's own price may price, per 1,000 units (genai-prices' component names). */
const MODEL_UNIT_COMPONENTS: Record<string, string> = { web_search: 'web_searches_kcount' };
