/** Subscriptions' public face: the facade, the effective subscription, the event contracts and period arithmetic. */
export { SubscriptionsModule } from './subscriptions.module';
export { SubscriptionsFacade } from './application/subscriptions.facade';
export { PeriodCloseJob } from './application/period-close.job';
export type { EffectiveSubscription } from './application/effective-subscription';
export type {
  SubscriptionEvent,
  DefaultPlanAssignedData,
  SubscribedData,
  PlanChangedData,
  SubscriptionCancelledData,
  PeriodResetData,
  BillingRecordedData,
  SubscriptionEndedData,
  UsageTotals,
} from './domain/subscription-events';
export { SUBSCRIPTION_EVENT_TYPES, subscriptionStreamId } from './domain/subscription-events';
export { periodContaining, periodAt, periodStart } from './domain/billing-period';
export type { BillingCycle, Period } from './domain/billing-period';
export { AVERAGE_WINDOW_DAYS, TREND_WINDOW_DAYS, TREND_CHANGE, PROJECTION_METHOD, averagingDays, dailyPace, dailyCountPace, projectCount, usageTrend } from './domain/usage-outlook';
export type { UsageTrend, ProjectionBasis, DayCounts, DailyPace } from './domain/usage-outlook';
