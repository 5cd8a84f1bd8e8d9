import { Injectable } from '@nestjs/common';
import { Money } from '../../../libs/money';
import { PricingException } from '../../../libs/errors';
import type { UsageVector } from '../../metering';
import { costExact } from '../domain/cost';
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
  constructor(private readonly catalog: PriceCatalogService) {}

  /** Prices a usage vector at the price in effect at `at`. Throws `pricing_error` for a provider without any price. */
  quote(provider: string, model: string, usage: UsageVector, at: Date): PriceQuote {
    const r = this.catalog.catalog.resolve(provider, model ?? '', at);
    if (!r) throw new PricingException(`No price for provider "${provider}" at ${at.toISOString()}.`, { provider, model, at: at.toISOString() });
    return new Quote(costExact(r.entry.components, { ...ZERO_USAGE, ...usage }), r.entry.version, r.price_source, r.model_key);
  }

  /** The cost of the prompt alone (the pre-call check's estimate). */
  estimateInputCost(provider: string, model: string, inputTokens: number, at: Date): Money {
    return this.quote(provider, model, { ...ZERO_USAGE, input_tokens: inputTokens }, at).cost;
  }
}
