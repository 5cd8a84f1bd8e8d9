import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CqrsModule } from '@nestjs/cqrs';
import { InfrastructureModule } from './shell/infrastructure.module';
import { HealthController } from './shell/health.controller';
import { IdentityModule } from './identity/identity.module';
import { PricingModule } from './pricing/pricing.module';
import { PlansModule } from './plans/plans.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { MeteringModule } from './metering/metering.module';
import { AlertsModule } from './alerts/alerts.module';
import { GatewayModule } from './gateway/gateway.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { WebModule } from './web/web.module';

/** Wiring only: the shell, then one module per bounded context. */
@Module({
  imports: [
    InfrastructureModule,
    CqrsModule.forRoot(),
    ScheduleModule.forRoot(),
    IdentityModule,
    PricingModule,
    PlansModule,
    SubscriptionsModule,
    MeteringModule,
    AlertsModule,
    GatewayModule,
    DashboardModule,
    WebModule,
  ],
  controllers: [HealthController],
})
export class AppModule {}
