import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import type { WebhookDeliveryAttemptedData } from '../domain/webhook';

export const WEBHOOK_DELIVERIES = 'webhook_deliveries';

export type DeliveryLogDoc = { _id: string; [key: string]: unknown } & WebhookDeliveryAttemptedData;

/** The delivery log a tenant reads: one document per attempt. */
export class WebhookDeliveryLogProjection implements Projection {
  readonly name = 'webhook-delivery-log';
  readonly eventTypes = ['WebhookDeliveryAttempted'] as const;
  readonly collections = [WEBHOOK_DELIVERIES] as const;

  async setup(store: ReadStore): Promise<void> {
    await store.collection(WEBHOOK_DELIVERIES).ensureIndex(['tenant_id', 'attempted_at']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as WebhookDeliveryAttemptedData;
    await batch.collection<DeliveryLogDoc>(WEBHOOK_DELIVERIES).put({ _id: `${d.delivery_id}:${String(d.attempt).padStart(4, '0')}`, ...d });
  }
}
