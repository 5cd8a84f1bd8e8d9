import { Injectable } from '@nestjs/common';
import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { BillingRecordedData } from '../domain/subscription-events';

export const BILLING_HISTORY = 'billing_history';

export type BillingHistoryDoc = { _id: string } & BillingRecordedData & Record<string, unknown>;

/** The specification's `billing_history`: one record per closed period (status pending until a payment system says otherwise). */
@Injectable()
export class BillingHistoryProjection implements Projection {
  readonly name = 'billing_history';
  readonly eventTypes = ['BillingRecorded'];
  readonly collections = [BILLING_HISTORY];

  async setup(store: ReadStore): Promise<void> {
    await store.collection(BILLING_HISTORY).ensureIndex(['tenant_id', 'user_id', 'period_start']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as BillingRecordedData;
    await batch.collection<BillingHistoryDoc>(BILLING_HISTORY).put({ _id: d.billing_id, ...d });
  }
}
