/** What other modules see of a user's subscription at a moment (SubscriptionsFacade.getEffective). */
export interface EffectiveSubscription {
  tenant_id: string;
  user_id: string;
  subscription_id: string | null;
  plan_id: string;
  plan_name: string;
  billing_cycle: 'monthly' | 'yearly';
  status: 'active' | 'cancelling' | 'default';
  /** ISO times: the billing period containing the moment asked about (start inclusive, end exclusive). */
  period_start: string;
  period_end: string;
  /** The plan's limits now (absent = unlimited): the plan book's own object, not a copy. */
  limits: Readonly<Record<string, number>>;
  alert_thresholds: readonly number[];
}
