/** Alerts' public face: the query facade, the jobs others may trigger, and the published event contracts. */
export { AlertsModule } from './alerts.module';
export { AlertsFacade } from './application/alerts.facade';
export type { AlertView, AlertFilter } from './application/alerts.facade';
export { RenewalNoticeJob, RENEWAL_NOTICE_DAYS } from './application/renewal-notice.job';
export { WebhookDispatcher } from './infrastructure/webhook-dispatcher';
export { verifyWebhook, signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './infrastructure/webhook-signature';
export type { UsageAlertRaisedData, RenewalNoticeRaisedData, AlertReadData, AlertEvent } from './domain/alert';
export { usageAlertStreamId, renewalNoticeStreamId } from './domain/alert';
export type { WebhookConfiguredData, WebhookRemovedData, WebhookDeliveryAttemptedData } from './domain/webhook';
export { severityFor } from './domain/severity';
export type { Severity } from './domain/severity';
export { usageOfLimit, limitSubject, providerName, formatCount, formatUsd, addUsageInPlace, emptyTotals } from './domain/limit-usage';
export type { UsageTotals, LimitSubject } from './domain/limit-usage';
