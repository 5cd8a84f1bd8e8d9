/** Pricing's public face: the facade, its types, and the PriceSet event contract. */
export { PricingModule } from './pricing.module';
export { PricingFacade } from './application/pricing.facade';
export type { PriceQuote } from './application/pricing.facade';
export type { PriceSetData, PriceComponents, PriceValue, PricingEvent, MatchRule, PriceSource } from './domain/price';
export { FALLBACK_MODEL, PRICING_EVENT_TYPES, priceStreamId } from './domain/price';
/** For the prices:import CLI: the catalog on an event store, without the Nest application. */
export { seedDefaultCatalog } from './application/catalog-store';
export { importLitellm, importGenaiPrices } from './application/import-prices.handler';
export type { ImportResult } from './application/import-prices.handler';
