import { Module, Provider } from '@nestjs/common';
import { ProjectionRegistry } from '../shell';
import { PriceCatalogService } from './application/price-catalog.service';
import { PricingFacade } from './application/pricing.facade';
import { SetPriceHandler } from './application/set-price.handler';
import { ImportPricesHandler } from './application/import-prices.handler';
import { PricingController } from './api/pricing.controller';
import { ApiProviderPricingProjection } from './projections/api-provider-pricing.projection';

const application: Provider[] = [PriceCatalogService, SetPriceHandler, ImportPricesHandler];
const facades: Provider[] = [PricingFacade];

/** Prices: the event-sourced catalog, cost calculation, operator changes and imports. */
@Module({
  controllers: [PricingController],
  providers: [...application, ...facades],
  exports: [...facades],
})
export class PricingModule {
  constructor(registry: ProjectionRegistry) {
    registry.register(new ApiProviderPricingProjection());
  }
}
