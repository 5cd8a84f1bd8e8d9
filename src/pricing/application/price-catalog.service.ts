import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore, Subscription } from '../../../libs/event-store/port';
import { PriceCatalog } from '../domain/price-catalog';
import { PRICING_EVENT_TYPES } from '../domain/price';
import { applyStored, loadCatalog, seedDefaultCatalog } from './catalog-store';

/**
 * The in-memory price catalog of this instance: seeded once, loaded from the log at module init, and kept current by
 * a subscription to the log (so a price set on another instance applies here within the poll interval).
 */
@Injectable()
export class PriceCatalogService implements OnModuleInit, OnModuleDestroy {
  readonly catalog = new PriceCatalog();
  private subscription: Subscription | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const wrote = await seedDefaultCatalog(this.store, this.clock.now());
    if (wrote) new Logger('Pricing').log('Price catalog: default catalog written (specification table, genai-prices data, unit prices).');
    const { position } = await loadCatalog(this.store, this.catalog);
    this.subscription = this.store.subscribeToAll((events) => events.forEach((e) => applyStored(this.catalog, e)), { after: position, types: PRICING_EVENT_TYPES });
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  /** Waits until every PriceSet stored so far is in the catalog. */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }
}
