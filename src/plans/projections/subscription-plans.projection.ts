import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { PLAN_EVENT_TYPES, PlanDefinedData, PlanEvent } from '../domain/plan';

export const SUBSCRIPTION_PLANS = 'subscription_plans';

/** The specification's `subscription_plans` table: one document per plan, as it stands now (retired ones flagged). */
export type SubscriptionPlanDoc = PlanDefinedData & {
  _id: string;
  [key: string]: unknown;
  active: boolean;
  updated_at: string;
};

export class SubscriptionPlansProjection implements Projection {
  readonly name = 'subscription-plans';
  readonly eventTypes = PLAN_EVENT_TYPES;
  readonly collections = [SUBSCRIPTION_PLANS] as const;

  async setup(store: ReadStore): Promise<void> {
    await store.collection(SUBSCRIPTION_PLANS).ensureIndex(['tier']);
  }

  /** Every update sets absolute values, so a redelivered event leaves the document as it was. */
  async handle(raw: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const plans = batch.collection<SubscriptionPlanDoc>(SUBSCRIPTION_PLANS);
    const event = { type: raw.type, data: raw.data } as PlanEvent;
    const updated_at = raw.metadata.occurredAt;
    switch (event.type) {
      case 'PlanDefined':
        await plans.put({ _id: event.data.plan_id, ...event.data, active: true, updated_at });
        return;
      case 'PlanLimitsChanged':
        await plans.upsert(event.data.plan_id, { set: { limits: event.data.limits, alert_thresholds: event.data.alert_thresholds, updated_at } });
        return;
      case 'PlanPriceChanged':
        await plans.upsert(event.data.plan_id, { set: { monthly_price: event.data.monthly_price, yearly_price: event.data.yearly_price, updated_at } });
        return;
      case 'PlanDetailsChanged':
        await plans.upsert(event.data.plan_id, { set: { name: event.data.name, tier: event.data.tier, features: event.data.features, updated_at } });
        return;
      case 'PlanRetired':
        await plans.upsert(event.data.plan_id, { set: { active: false, updated_at } });
        return;
      default: {
        const unexpected: never = event;
        return unexpected;
      }
    }
  }
}
