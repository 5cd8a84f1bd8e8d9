import { Money } from '../../../libs/money';
import { PlanView } from '../domain/plan';

/** A plan as the API shows it: prices as JSON numbers (USD). */
export function planJson(p: PlanView) {
  return {
    plan_id: p.plan_id,
    name: p.name,
    tier: p.tier,
    monthly_price: new Money(p.monthly_price).toNumber(),
    yearly_price: new Money(p.yearly_price).toNumber(),
    limits: p.limits,
    alert_thresholds: p.alert_thresholds,
    features: p.features,
    active: p.active,
  };
}
