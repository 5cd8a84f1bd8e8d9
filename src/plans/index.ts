/** Plans' public face: the facade, the plan view and the plan events' contract. */
export { PlansModule } from './plans.module';
export { PlansFacade } from './application/plans.facade';
export type { PlanView, PlanEvent, PlanDefinedData, PlanLimitsChangedData, PlanPriceChangedData, PlanDetailsChangedData, PlanRetiredData } from './domain/plan';
export { PLAN_EVENT_TYPES, planStreamId } from './domain/plan';
export { DEFAULT_PLANS, DEFAULT_ALERT_THRESHOLDS } from './default-plans';
