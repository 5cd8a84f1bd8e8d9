import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { IdentityModule } from '../identity/identity.module';
import { PlansModule } from '../plans/plans.module';
import { ProjectionRegistry } from '../shell';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { DashboardController } from './api/dashboard.controller';
import { DashboardQuery } from './application/dashboard.query';
import { TrendsQuery } from './application/trends.query';
import { UsageDaysReader } from './application/usage-days.reader';
import { UsageDailyProjection } from './projections/usage-daily.projection';
import { UsagePeriodProjection } from './projections/usage-period.projection';

/** The read side the frontend shows: dashboard, trends, projections and recommendations. */
@Module({
  imports: [AlertsModule, IdentityModule, PlansModule, SubscriptionsModule],
  controllers: [DashboardController],
  providers: [UsageDailyProjection, UsagePeriodProjection, UsageDaysReader, DashboardQuery, TrendsQuery],
  exports: [DashboardQuery, TrendsQuery],
})
export class DashboardModule {
  constructor(registry: ProjectionRegistry, daily: UsageDailyProjection, period: UsagePeriodProjection) {
    registry.register(daily, period);
  }
}
