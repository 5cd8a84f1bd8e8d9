import { Module, Provider } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { PlansModule } from '../plans/plans.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { PlansFacade } from '../plans';
import { SubscriptionsFacade } from '../subscriptions';
import { ProjectionRegistry } from '../shell';
import { AlertsController } from './api/alerts.controller';
import { WebhooksController } from './api/webhooks.controller';
import { AlertsFacade } from './application/alerts.facade';
import { MarkAlertReadHandler } from './application/mark-alert-read.handler';
import { RaiseAlertHandler } from './application/raise-alert.handler';
import { RenewalNoticeJob } from './application/renewal-notice.job';
import { ThresholdWatcherProcess } from './application/threshold-watcher.process';
import { WebhooksService } from './application/webhooks.service';
import { WebhookDispatcher } from './infrastructure/webhook-dispatcher';
import { WebhookSender } from './infrastructure/webhook-sender';
import { UsageAlertsProjection } from './projections/usage-alerts.projection';
import { WebhookDeliveryLogProjection } from './projections/webhook-delivery-log.projection';
import { WebhookOutboxProjection } from './projections/webhook-outbox.projection';

const projections: Provider[] = [
  UsageAlertsProjection,
  WebhookDeliveryLogProjection,
  {
    provide: ThresholdWatcherProcess,
    inject: [RaiseAlertHandler, PlansFacade, SubscriptionsFacade],
    useFactory: (raiser: RaiseAlertHandler, plans: PlansFacade, subs: SubscriptionsFacade) => new ThresholdWatcherProcess(raiser, plans, subs),
  },
  {
    provide: WebhookOutboxProjection,
    inject: [WebhookDispatcher],
    useFactory: (dispatcher: WebhookDispatcher) => new WebhookOutboxProjection(() => dispatcher.kick()),
  },
];

const application: Provider[] = [AlertsFacade, RaiseAlertHandler, MarkAlertReadHandler, RenewalNoticeJob, WebhooksService, WebhookDispatcher, WebhookSender];

/** Alerts: thresholds crossed (exactly once), read state, renewal notices, signed webhooks. */
@Module({
  imports: [IdentityModule, PlansModule, SubscriptionsModule],
  controllers: [AlertsController, WebhooksController],
  providers: [...projections, ...application],
  exports: [AlertsFacade, RenewalNoticeJob, WebhookDispatcher],
})
export class AlertsModule {
  constructor(
    registry: ProjectionRegistry,
    watcher: ThresholdWatcherProcess,
    alerts: UsageAlertsProjection,
    outbox: WebhookOutboxProjection,
    log: WebhookDeliveryLogProjection,
  ) {
    registry.register(watcher, alerts, outbox, log);
  }
}
