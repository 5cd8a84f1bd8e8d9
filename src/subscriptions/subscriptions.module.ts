import { Module, Provider } from '@nestjs/common';
import { IdentityModule } from '../identity';
import { PlansModule } from '../plans';
import { ProjectionRegistry } from '../shell';
import { SubscriptionJobsController, SubscriptionsController } from './api/subscriptions.controller';
import { PeriodCloseJob } from './application/period-close.job';
import { SubscriptionStatusQuery } from './application/status.query';
import { SubscriptionsFacade } from './application/subscriptions.facade';
import { SubscriptionsService } from './application/subscriptions.service';
import { BillingHistoryProjection } from './projections/billing-history.projection';
import { SubscriptionUsageProjection } from './projections/subscription-usage.projection';
import { UserSubscriptionsProjection } from './projections/user-subscriptions.projection';

const projections: Provider[] = [UserSubscriptionsProjection, BillingHistoryProjection, SubscriptionUsageProjection];
const application: Provider[] = [SubscriptionsService, SubscriptionStatusQuery, PeriodCloseJob];
const facades: Provider[] = [SubscriptionsFacade];

/** Subscriptions: each user's plan, plan changes, billing periods that close on schedule, billing history. */
@Module({
  imports: [IdentityModule, PlansModule],
  controllers: [SubscriptionsController, SubscriptionJobsController],
  providers: [...projections, ...application, ...facades],
  exports: [...facades, PeriodCloseJob],
})
export class SubscriptionsModule {
  constructor(registry: ProjectionRegistry, subs: UserSubscriptionsProjection, billing: BillingHistoryProjection, usage: SubscriptionUsageProjection) {
    registry.register(subs, billing, usage);
  }
}
