import { Injectable } from '@nestjs/common';
import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { SUBSCRIPTION_EVENT_TYPES, SubscriptionEvent } from '../domain/subscription-events';

export const USER_SUBSCRIPTIONS = 'user_subscriptions';

export type UserSubscriptionDoc = {
  _id: string;
  tenant_id: string;
  user_id: string;
  subscription_id: string | null;
  plan_id: string;
  billing_cycle: string;
  status: 'default' | 'active' | 'cancelling';
  period_start: string;
  period_end: string;
  cancel_at: string | null;
  updated_at: string;
};

export const userSubscriptionId = (tenantId: string, userId: string) => `${tenantId}/${userId}`;

/** The specification's `user_subscriptions`: each user's plan and current period; the period-close job reads it. */
@Injectable()
export class UserSubscriptionsProjection implements Projection {
  readonly name = 'user_subscriptions';
  readonly eventTypes = SUBSCRIPTION_EVENT_TYPES.filter((t) => t !== 'BillingRecorded');
  readonly collections = [USER_SUBSCRIPTIONS];

  async setup(store: ReadStore): Promise<void> {
    await store.collection(USER_SUBSCRIPTIONS).ensureIndex(['period_end']);
    await store.collection(USER_SUBSCRIPTIONS).ensureIndex(['tenant_id', 'user_id']);
  }

  async handle(stored: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const event = { type: stored.type, data: stored.data } as SubscriptionEvent;
    const docs = batch.collection<UserSubscriptionDoc>(USER_SUBSCRIPTIONS);
    const at = stored.metadata.occurredAt;
    switch (event.type) {
      case 'DefaultPlanAssigned': {
        const d = event.data;
        await docs.put({ _id: userSubscriptionId(d.tenant_id, d.user_id), tenant_id: d.tenant_id, user_id: d.user_id, subscription_id: null, plan_id: d.plan_id, billing_cycle: 'monthly', status: 'default', period_start: d.period_start, period_end: d.period_end, cancel_at: null, updated_at: at });
        return;
      }
      case 'Subscribed': {
        const d = event.data;
        await docs.put({ _id: userSubscriptionId(d.tenant_id, d.user_id), tenant_id: d.tenant_id, user_id: d.user_id, subscription_id: d.subscription_id, plan_id: d.plan_id, billing_cycle: d.billing_cycle, status: 'active', period_start: d.period_start, period_end: d.period_end, cancel_at: null, updated_at: at });
        return;
      }
      case 'PlanChanged':
        await docs.upsert(userSubscriptionId(event.data.tenant_id, event.data.user_id), { set: { plan_id: event.data.new_plan_id, updated_at: at } });
        return;
      case 'SubscriptionCancelled':
        await docs.upsert(userSubscriptionId(event.data.tenant_id, event.data.user_id), { set: { status: 'cancelling', cancel_at: event.data.effective_at, updated_at: at } });
        return;
      case 'PeriodReset':
        await docs.upsert(userSubscriptionId(event.data.tenant_id, event.data.user_id), { set: { period_start: event.data.next_period_start, period_end: event.data.next_period_end, updated_at: at } });
        return;
      case 'SubscriptionEnded': {
        const d = event.data;
        await docs.upsert(userSubscriptionId(d.tenant_id, d.user_id), {
          set: { status: 'default', subscription_id: null, plan_id: d.fallback_plan_id, billing_cycle: 'monthly', period_start: d.period_start, period_end: d.period_end, cancel_at: null, updated_at: at },
        });
        return;
      }
      case 'BillingRecorded':
        return;
      default: {
        const unexpected: never = event;
        return unexpected;
      }
    }
  }
}
