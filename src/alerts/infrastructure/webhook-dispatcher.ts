import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { APP_CONFIG, AppConfig, rootLogger } from '../../shell';
import { WebhooksService } from '../application/webhooks.service';
import { deterministicUuid } from '../application/deterministic-id';
import { DEFAULT_RETRY_POLICY, nextAttemptAt, RetryPolicy, WebhookDeliveryAttemptedData, webhookDeliveryStreamId } from '../domain/webhook';
import { OutboxDoc, WEBHOOK_OUTBOX } from '../projections/webhook-outbox.projection';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature';

const POLL_MS = 200;
const TIMEOUT_MS = 10_000;
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
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    const secret = await this.webhooks.signingSecret(doc.tenant_id);
    if (secret === null) {
      error = 'The tenant has no webhook endpoint any more.';
    } else {
      const body = JSON.stringify(doc.payload);
      const timestamp = String(Math.floor(attemptedAt.getTime() / 1000));
      try {
        const res = await fetch(doc.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'Tollgate-Webhooks/1',
            [TIMESTAMP_HEADER]: timestamp,
            [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
            'x-tollgate-delivery': doc.delivery_id,
            'x-tollgate-attempt': String(attempt),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
        });
        statusCode = res.status;
        await res.arrayBuffer().catch(() => undefined);
        if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        error = e.name === 'TimeoutError' ? `No answer within ${TIMEOUT_MS} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`;
      }
    }
    const ok = error === null;
    const next = ok || secret === null ? null : nextAttemptAt(this.policy, new Date(doc.created_at), attemptedAt, attempt);
    const data: WebhookDeliveryAttemptedData = {
      delivery_id: doc.delivery_id,
      tenant_id: doc.tenant_id,
      alert_id: doc.alert_id,
      url: doc.url,
      attempt,
      attempted_at: attemptedAt.toISOString(),
      status_code: statusCode,
      ok,
      error,
      duration_ms: Math.round(performance.now() - started),
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
}
