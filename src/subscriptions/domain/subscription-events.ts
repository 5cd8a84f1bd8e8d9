import { BillingCycle } from './billing-period';

/**
 * The subscription's stored events (frozen shapes: add an upcaster rather than edit a field). One stream per user of a
 * tenant: `subscription-{tenant_id}/{user_id}`. Times are ISO strings, money exact decimal strings (USD).
 */

/** A user's first contact: the tenant's default plan, monthly from that moment. */
export interface DefaultPlanAssignedData {
  tenant_id: string;
  user_id: string;
  plan_id: string;
  billing_cycle: 'monthly';
  /** The plan's price for the cycle when the period began (0 for Free). */
  price: string;
  period_start: string;
  period_end: string;
  assigned_at: string;
}

export interface SubscribedData {
  subscription_id: string;
  tenant_id: string;
  user_id: string;
  plan_id: string;
  billing_cycle: BillingCycle;
  price: string;
  period_start: string;
  period_end: string;
  subscribed_at: string;
}

export interface PlanChangedData {
  subscription_id: string;
  tenant_id: string;
  user_id: string;
  previous_plan_id: string;
  new_plan_id: string;
  direction: 'upgrade' | 'downgrade';
  reason: string | null;
  changed_at: string;
  /** The new plan's price for the cycle (its base fee is prorated from `changed_at`). */
  price: string;
  period_start: string;
  period_end: string;
  /** Limits of the new plan that this period's usage already reaches: nothing remains of them until the period ends. */
  exhausted_limits: string[];
}

export interface SubscriptionCancelledData {
  subscription_id: string;
  tenant_id: string;
  user_id: string;
  plan_id: string;
  immediately: boolean;
  reason: string | null;
  cancelled_at: string;
  /** When the subscription ends: the period's end, or `cancelled_at` when immediate. */
  effective_at: string;
}

export interface UsageTotals {
  calls: number;
  tokens: number;
  /** Exact decimal (USD). */
  cost: string;
  providers: Record<string, { calls: number; tokens: number; cost: string }>;
}

/** A billing period closed: usage counts start from zero in the next one. */
export interface PeriodResetData {
  tenant_id: string;
  user_id: string;
  subscription_id: string | null;
  plan_id: string;
  billing_cycle: BillingCycle;
  period_start: string;
  /** When the closed period actually ended (its natural end, or earlier on a subscribe or an immediate cancel). */
  period_end: string;
  reason: 'period_end' | 'subscribed' | 'cancelled';
  totals: UsageTotals;
  billing_id: string;
  next_period_start: string;
  next_period_end: string;
  /** Price for the cycle of the plan in force at the start of the next period. */
  next_price: string;
  closed_at: string;
}

export interface BilledPlan {
  plan_id: string;
  from: string;
  to: string;
  /** The plan's full price for one period of the cycle. */
  price: string;
  /** The price prorated by the time the plan was in force, in cents. */
  base_fee: string;
}

export interface BillingRecordedData {
  billing_id: string;
  tenant_id: string;
  user_id: string;
  subscription_id: string | null;
  billing_cycle: BillingCycle;
  period_start: string;
  period_end: string;
  plans: BilledPlan[];
  /** Sum of the plans' prorated fees (cents). */
  base_fee: string;
  /** Exact usage cost by provider. */
  usage_cost_by_provider: Record<string, string>;
  usage_cost: string;
  /** base_fee + usage_cost, in cents. */
  total: string;
  currency: 'USD';
  status: 'pending';
  recorded_at: string;
}

/** A cancelled subscription ended: the user is back on the tenant's default plan. */
export interface SubscriptionEndedData {
  subscription_id: string;
  tenant_id: string;
  user_id: string;
  plan_id: string;
  ended_at: string;
  fallback_plan_id: string;
  fallback_price: string;
  period_start: string;
  period_end: string;
}

export type SubscriptionEvent =
  | { type: 'DefaultPlanAssigned'; data: DefaultPlanAssignedData }
  | { type: 'Subscribed'; data: SubscribedData }
  | { type: 'PlanChanged'; data: PlanChangedData }
  | { type: 'SubscriptionCancelled'; data: SubscriptionCancelledData }
  | { type: 'PeriodReset'; data: PeriodResetData }
  | { type: 'BillingRecorded'; data: BillingRecordedData }
  | { type: 'SubscriptionEnded'; data: SubscriptionEndedData };

export const SUBSCRIPTION_EVENT_TYPES = ['DefaultPlanAssigned', 'Subscribed', 'PlanChanged', 'SubscriptionCancelled', 'PeriodReset', 'BillingRecorded', 'SubscriptionEnded'] as const;

export const SUBSCRIPTION_STREAM_PREFIX = 'subscription-';
export const subscriptionStreamId = (tenantId: string, userId: string) => `${SUBSCRIPTION_STREAM_PREFIX}${tenantId}/${userId}`;
