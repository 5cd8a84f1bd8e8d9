import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { deterministicUuid } from '../application/deterministic-id';
import type { RenewalNoticeRaisedData, UsageAlertRaisedData } from '../domain/alert';
import type { WebhookConfiguredData, WebhookDeliveryAttemptedData } from '../domain/webhook';

export const WEBHOOK_OUTBOX = 'webhook_outbox';
/** The endpoint each tenant had at this point of the log (the outbox's lookup table). */
export const WEBHOOK_ENDPOINTS = 'webhook_endpoints';

export interface OutboxDoc {
  _id: string;
  [key: string]: unknown;
  delivery_id: string;
  tenant_id: string;
  alert_id: string;
  url: string;
  /** The JSON body sent, fixed when the alert was raised. */
  payload: Record<string, unknown>;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** When the alert was appended (the retry window of a day runs from here). */
  created_at: string;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
}

interface EndpointDoc {
  _id: string;
  [key: string]: unknown;
  url: string;
  configured_at: string;
}

/**
 * The webhook outbox: an alert raised while its tenant has an endpoint becomes a pending delivery; each
 * `WebhookDeliveryAttempted` moves it on (delivered, next attempt, or given up). Being a projection of the log, the
 * outbox survives restarts and a rebuild gives the same state (attempts are events too).
 */
export class WebhookOutboxProjection implements Projection {
  readonly name = 'webhook-outbox';
  readonly eventTypes = ['WebhookConfigured', 'WebhookRemoved', 'UsageAlertRaised', 'RenewalNoticeRaised', 'WebhookDeliveryAttempted'] as const;
  readonly collections = [WEBHOOK_OUTBOX, WEBHOOK_ENDPOINTS] as const;

  constructor(private readonly onNewWork: () => void = () => undefined) {}

  async setup(store: ReadStore): Promise<void> {
    await store.collection(WEBHOOK_OUTBOX).ensureIndex(['status', 'next_attempt_at']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const outbox = batch.collection<OutboxDoc>(WEBHOOK_OUTBOX);
    const endpoints = batch.collection<EndpointDoc>(WEBHOOK_ENDPOINTS);
    switch (event.type) {
      case 'WebhookConfigured': {
        const d = event.data as WebhookConfiguredData;
        await endpoints.put({ _id: d.tenant_id, url: d.url, configured_at: d.configured_at });
        return;
      }
      case 'WebhookRemoved':
        await endpoints.delete((event.data as { tenant_id: string }).tenant_id);
        return;
      case 'UsageAlertRaised':
      case 'RenewalNoticeRaised': {
        const d = event.data as UsageAlertRaisedData | RenewalNoticeRaisedData;
        const ep = await endpoints.get(d.tenant_id);
        if (!ep) return;
        const deliveryId = deterministicUuid(`${d.alert_id}|${ep.url}|${ep.configured_at}`);
        const createdAt = event.metadata.occurredAt ?? d.raised_at;
        await outbox.put({
          _id: deliveryId,
          delivery_id: deliveryId,
          tenant_id: d.tenant_id,
          alert_id: d.alert_id,
          url: ep.url,
          payload: webhookPayload(deliveryId, event.type, d),
          status: 'pending',
          attempts: 0,
          created_at: createdAt,
          next_attempt_at: createdAt,
          last_attempt_at: null,
          last_status_code: null,
          last_error: null,
        });
        return;
      }
      case 'WebhookDeliveryAttempted': {
        const d = event.data as WebhookDeliveryAttemptedData;
        const doc = await outbox.get(d.delivery_id);
        if (!doc || doc.attempts >= d.attempt) return;
        await outbox.put({
          ...doc,
          attempts: d.attempt,
          status: d.ok ? 'delivered' : d.gave_up ? 'failed' : 'pending',
          next_attempt_at: d.next_attempt_at,
          last_attempt_at: d.attempted_at,
          last_status_code: d.status_code,
          last_error: d.error,
        });
        return;
      }
      default:
        return;
    }
  }

  afterCommit(events: StoredEvent[]): void {
    if (events.some((e) => e.type === 'UsageAlertRaised' || e.type === 'RenewalNoticeRaised')) this.onNewWork();
  }
}

/** The JSON a receiver gets: the alert with who it concerns (receivers deduplicate by `alert.alert_id`). */
function webhookPayload(deliveryId: string, type: string, d: UsageAlertRaisedData | RenewalNoticeRaisedData): Record<string, unknown> {
  const common = {
    alert_id: d.alert_id,
    kind: d.kind,
    tenant_id: d.tenant_id,
    user_id: d.user_id,
    plan_id: d.plan_id,
    severity: d.severity,
    title: d.title,
    message: d.message,
    period_start: d.period_start,
    period_end: d.period_end,
    created_at: d.raised_at,
  };
  const alert =
    d.kind === 'usage'
      ? { ...common, limit: d.limit, threshold: d.threshold, value: d.value, limit_value: d.limit_value }
      : { ...common, limit: null, threshold: null, value: null, limit_value: null };
  return { type: type === 'UsageAlertRaised' ? 'usage_alert' : 'renewal_notice', delivery_id: deliveryId, alert };
}
