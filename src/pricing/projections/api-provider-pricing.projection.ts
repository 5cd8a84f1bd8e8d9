import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { PriceComponents, PriceSetData, PriceSource, PricingEvent } from '../domain/price';

export const API_PROVIDER_PRICING = 'api_provider_pricing';

/**
 * The specification's `api_provider_pricing` table: one document per PriceSet (a price version), so a price's whole
 * history can be queried by provider, model and date. Quotes use the in-memory catalog; this is for reports and tools.
 */
export interface ProviderPricingDoc {
  _id: string;
  [key: string]: unknown;
  price_version: string;
  provider: string;
  model: string;
  components: PriceComponents;
  effective_from: string;
  source: PriceSource;
  source_ref: string | null;
  event_id: string;
  position: string;
}

export class ApiProviderPricingProjection implements Projection {
  readonly name = 'api-provider-pricing';
  readonly eventTypes = ['PriceSet'] as const;
  readonly collections = [API_PROVIDER_PRICING] as const;

  async setup(store: ReadStore): Promise<void> {
    await store.collection(API_PROVIDER_PRICING).ensureIndex(['provider', 'model', 'effective_from']);
  }

  async handle(raw: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const event = { type: raw.type, data: raw.data } as PricingEvent;
    switch (event.type) {
      case 'PriceSet': {
        const d: PriceSetData = event.data;
        // put() replaces the document: a redelivered event writes the same document again.
        await batch.collection<ProviderPricingDoc>(API_PROVIDER_PRICING).put({
          _id: raw.id,
          price_version: d.version,
          provider: d.provider,
          model: d.model,
          components: d.components,
          effective_from: d.effective_from,
          source: d.source,
          source_ref: d.source_ref,
          event_id: raw.id,
          position: raw.position.toString(),
        });
        return;
      }
      default: {
        const unexpected: never = event.type;
        return unexpected;
      }
    }
  }
}
