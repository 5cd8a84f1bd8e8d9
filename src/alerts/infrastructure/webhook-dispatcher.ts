import { randomUUID } from 'crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { notFound } from '../../../libs/errors';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { APP_CONFIG, AppConfig, rootLogger } from '../../shell';
import { WebhooksService } from '../application/webhooks.service';
import { deterministicUuid } from '../application/deterministic-id';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, RetryPolicy, WebhookDeliveryAttemptedData, webhookDeliveryStreamId } from '../domain/webhook';
import { OutboxDoc, WEBHOOK_OUTBOX } from '../projections/webhook-outbox.projection';
import { DELIVERY_REASONS, WebhookSender } from './webhook-sender';

const POLL_MS = 200;
const CONCURRENCY = 8;

/**
 * Delivers the webhook outbox, off every request path: a timer picks due deliveries, POSTs them signed, and appends
 * each attempt as `WebhookDeliveryAttempted` (the outbox and the delivery log are projections of those). A slow or
 * dead receiver only occupies one of a few delivery slots here. Several instances may deliver: at least once; the
 * attempt number's expected revision keeps the log free of duplicate attempt records.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Attempts made here that the outbox may not show yet. */
  private readonly attemptedHere = new Map<string, number>();
  private ticking = false;
  private stopped = false;
  private readonly log = rootLogger().child({ component: 'webhooks' });
  policy: RetryPolicy = DEFAULT_RETRY_POLICY;

  constructor(
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly webhooks: WebhooksService,
    private readonly sender: WebhookSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'projector') return; // deliveries are the server's (kicked by the outbox it is told of)
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Looks for due deliveries now (called by the timer and when the outbox gains work). */
  kick(): void {
    if (this.ticking || this.stopped || this.config.role === 'projector') return;
    this.ticking = true;
    this.tick()
      .catch((err) => this.log.error({ err: (err as Error).message }, 'webhook tick failed'))
      .finally(() => (this.ticking = false));
  }

  private async tick(): Promise<void> {
    const free = CONCURRENCY - this.inFlight.size;
    if (free <= 0) return;
    const now = this.clock.now().toISOString();
    const page = await this.reads
      .collection<OutboxDoc>(WEBHOOK_OUTBOX)
      .find({ status: 'pending', next_attempt_at: { $lte: now } }, { sort: { field: 'next_attempt_at', direction: 'asc' }, limit: free + this.inFlight.size });
    for (const doc of page.items) {
      if (this.inFlight.size >= CONCURRENCY) break;
      if (this.inFlight.has(doc.delivery_id)) continue;
      if ((this.attemptedHere.get(doc.delivery_id) ?? 0) > doc.attempts) continue;
      const p = this.deliver(doc)
        .catch((err) => this.log.error({ err: (err as Error).message, delivery_id: doc.delivery_id }, 'webhook delivery failed to record'))
        .finally(() => this.inFlight.delete(doc.delivery_id));
      this.inFlight.set(doc.delivery_id, p);
    }
  }

  private async deliver(doc: OutboxDoc): Promise<void> {
    const attempt = doc.attempts + 1;
    this.attemptedHere.set(doc.delivery_id, attempt);
    const attemptedAt = this.clock.now();
    // Each attempt goes where the endpoint is now: a tenant that fixed its URL after a failure gets the retries there.
    const endpoint = await this.webhooks.endpoint(doc.tenant_id);
    const sent = endpoint
      ? await this.sender.send(endpoint.url, endpoint.secret, doc.payload, { id: doc.delivery_id, attempt, at: attemptedAt })
      : { status_code: null, error: DELIVERY_REASONS.noEndpoint, duration_ms: 0 };
    const { status_code: statusCode, error } = sent;
    const secret = endpoint?.secret ?? null;
    const ok = error === null;
    const next = ok || secret === null ? null : nextAttemptAt(this.policy, new Date(doc.created_at), attemptedAt, attempt);
    const data: WebhookDeliveryAttemptedData = {
      delivery_id: doc.delivery_id,
      tenant_id: doc.tenant_id,
      alert_id: doc.alert_id,
      url: endpoint?.url ?? doc.url,
      attempt,
      attempted_at: attemptedAt.toISOString(),
      status_code: statusCode,
      ok,
      error,
      duration_ms: sent.duration_ms,
      next_attempt_at: next ? next.toISOString() : null,
      gave_up: !ok && next === null,
    };
    try {
      await this.events.append(
        webhookDeliveryStreamId(doc.delivery_id),
        [{ id: deterministicUuid(`${doc.delivery_id}#${attempt}`), type: 'WebhookDeliveryAttempted', data, metadata: { occurredAt: attemptedAt.toISOString(), causationId: doc.alert_id } }],
        attempt === 1 ? 'no_stream' : BigInt(attempt - 2),
      );
    } catch (err) {
      // Another instance recorded this attempt first: its record stands.
      if (!(err instanceof WrongExpectedVersionError)) throw err;
    }
    if (!ok) this.log.warn({ delivery_id: doc.delivery_id, attempt, error, next_attempt_at: data.next_attempt_at }, 'webhook delivery attempt failed');
  }

  /**
   * A test delivery to the endpoint now, signed like a real one (payload type `test`, no alert), so a tenant can check
   * its receiver. Not retried; its attempt is in the delivery log (alert_id `test`) and in the answer.
   */
  async sendTest(tenantId: string): Promise<WebhookDeliveryAttemptedData> {
    const endpoint = await this.webhooks.endpoint(tenantId);
    if (!endpoint) throw notFound('Webhook');
    const at = this.clock.now();
    const deliveryId = randomUUID();
    const payload = { type: 'test', delivery_id: deliveryId, tenant_id: tenantId, sent_at: at.toISOString(), alert: null };
    const sent = await this.sender.send(endpoint.url, endpoint.secret, payload, { id: deliveryId, attempt: 1, at });
    const data: WebhookDeliveryAttemptedData = {
      delivery_id: deliveryId,
      tenant_id: tenantId,
      alert_id: TEST_DELIVERY_ALERT_ID,
      url: endpoint.url,
      attempt: 1,
      attempted_at: at.toISOString(),
      status_code: sent.status_code,
      ok: sent.error === null,
      error: sent.error,
      duration_ms: sent.duration_ms,
      next_attempt_at: null,
      gave_up: false,
    };
    await this.events.append(
      webhookDeliveryStreamId(deliveryId),
      [{ id: deterministicUuid(`${deliveryId}#1`), type: 'WebhookDeliveryAttempted', data, metadata: { occurredAt: at.toISOString() } }],
      'no_stream',
    );
    return data;
  }
}

/** The alert_id of a test delivery in the delivery log. */
export const TEST_DELIVERY_ALERT_ID = 'test';
