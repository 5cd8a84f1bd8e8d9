import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'crypto';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { handleCommand } from '../../../libs/event-store/command-handling';
import { PricingException } from '../../../libs/errors';
import { PROVIDER_IDS } from '../../shell';
import { MatchRule, PriceSetData, priceStreamId } from '../domain/price';
import { setPriceDecider } from '../domain/set-price';
import { PriceCatalogService } from './price-catalog.service';

export interface SetPriceInput {
  provider: string;
  model: string;
  components: Record<string, unknown>;
  match?: MatchRule | null;
  /** ISO time; defaults to now. */
  effective_from?: string;
  /** The model's maximum output tokens (reserved for a call that states none). */
  max_output_tokens?: number;
}

/** An operator sets a price: load the key's stream, decide, append with the revision read. */
@Injectable()
export class SetPriceHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly prices: PriceCatalogService,
  ) {}

  async execute(input: SetPriceInput, correlationId?: string): Promise<{ price: PriceSetData; changed: boolean }> {
    const provider = input.provider.toLowerCase() === 'metaphor' ? 'exa' : input.provider.toLowerCase();
    if (!(PROVIDER_IDS as readonly string[]).includes(provider)) throw new PricingException(`Unknown provider "${input.provider}".`, { provider: input.provider, providers: PROVIDER_IDS }, 404);
    const model = input.model.trim().toLowerCase();
    if (!model) throw new PricingException('A model (or unit) name is required.');
    const now = this.clock.now();
    const eventId = randomUUID();
    const stream = priceStreamId(provider, model);
    const result = await handleCommand(
      this.store,
      stream,
      setPriceDecider,
      {
        type: 'SetPrice',
        data: { provider, model, components: input.components, match: input.match, effective_from: input.effective_from ?? now.toISOString(), source: 'operator', source_ref: null, event_id: eventId, max_output_tokens: input.max_output_tokens },
      },
      { now, correlationId, eventIds: () => eventId },
    );
    const price = result.state.prices[result.state.prices.length - 1];
    if (result.newEvents.length) {
      // Apply at once so this instance reads its own write; the subscription delivers the same event id later.
      this.prices.catalog.apply({ id: eventId, position: await this.positionOf(stream, eventId), data: price });
    }
    return { price, changed: result.newEvents.length > 0 };
  }

  private async positionOf(stream: string, eventId: string): Promise<bigint> {
    const last = await this.store.readStream(stream, { direction: 'backwards', maxCount: 5 });
    return last.find((e) => e.id === eventId)?.position ?? (await this.store.headPosition());
  }
}
