import { Module, Provider } from '@nestjs/common';
import { ProjectionRegistry } from '../shell';
import { IdentityModule } from '../identity';
import { PricingModule } from '../pricing';
import { SubscriptionsModule } from '../subscriptions';
import { MeteringFacade } from './application/metering.facade';
import { ReportUsageHandler } from './application/report-usage.handler';
import { UsageLedger } from './application/usage-ledger';
import { UsageWriter } from './application/usage-writer';
import { UsageController } from './api/usage.controller';
import { UsageReportController } from './api/usage-report.controller';
import { UsageLogProjection } from './projections/usage-log.projection';
import { UsageSummaryProjection } from './projections/usage-summary.projection';

const application: Provider[] = [UsageLedger, UsageWriter, ReportUsageHandler];
const facades: Provider[] = [MeteringFacade];

/** Metering: enforcement state (limits from memory with reservations), UsageRecorded/UsageRefused, the report API, usage log and summaries. */
@Module({
  imports: [IdentityModule, PricingModule, SubscriptionsModule],
  controllers: [UsageReportController, UsageController],
  providers: [...application, ...facades],
  exports: [...facades],
})
export class MeteringModule {
  constructor(registry: ProjectionRegistry) {
    registry.register(new UsageLogProjection(), new UsageSummaryProjection());
  }
}
