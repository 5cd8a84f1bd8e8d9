import { createHash } from 'crypto';
import { Money, toCents } from '../../../libs/money';
import { SubscriptionException } from '../../../libs/errors';
import { BillingCycle, periodAt, periodContaining } from './billing-period';
import {
  BilledPlan,
  BillingRecordedData,
  PeriodResetData,
  SubscriptionEvent,
  UsageTotals,
} from './subscription-events';

/**
 * The subscription of one user of one tenant, as a decider: pure `decide(command, state)` and `evolve(state, event)`.
 * The user is on the tenant's default plan from the first contact (DefaultPlanAssigned), may subscribe to a plan,
 * change it (upgrade or downgrade, prorated), cancel it (at the period's end or at once); each billing period closes
 * exactly once (PeriodReset + BillingRecorded), whatever the number of close commands sent for it.
 */

/** A plan as the commands carry it: its price for the billing cycle in question (exact decimal, USD). */
export interface PlanTerms {
  plan_id: string;
  tier: number;
  price: string;
}

export type SubscriptionCommand =
  | { type: 'AssignDefaultPlan'; data: { tenant_id: string; user_id: string; plan: PlanTerms; at: Date } }
  | {
      type: 'Subscribe';
      data: { tenant_id: string; user_id: string; subscription_id: string; plan: PlanTerms; billing_cycle: BillingCycle; at: Date; totals: UsageTotals };
    }
  | {
      type: 'ChangePlan';
      data: {
        plan: PlanTerms;
        current_plan: PlanTerms;
        reason: string | null;
        at: Date;
        /** The new plan's limits and this period's usage of each limit (same keys), to flag exhausted limits. */
        limits: Record<string, number>;
        usage: Record<string, number>;
      };
    }
  | { type: 'CancelSubscription'; data: { immediately: boolean; reason: string | null; at: Date; totals: UsageTotals; fallback: PlanTerms } }
  | { type: 'ClosePeriod'; data: { period_end: string; at: Date; totals: UsageTotals; next_price: string; fallback: PlanTerms } };

export type SubscriptionStatus = 'none' | 'default' | 'active' | 'cancelling';

/** A stretch of time with one plan and one period anchor. */
export interface Era {
  from: string;
  plan_id: string;
  billing_cycle: BillingCycle;
  anchor: string;
  status: 'default' | 'active';
  subscription_id: string | null;
}

export interface PlanHistoryEntry {
  at: string;
  change: 'default_assigned' | 'subscribed' | 'upgrade' | 'downgrade' | 'cancel_requested' | 'cancelled' | 'ended';
  plan_id: string;
  previous_plan_id: string | null;
  billing_cycle: BillingCycle;
  reason: string | null;
}

export interface Segment {
  plan_id: string;
  from: string;
  price: string;
}

export interface SubscriptionState {
  status: SubscriptionStatus;
  tenant_id: string;
  user_id: string;
  subscription_id: string | null;
  plan_id: string;
  billing_cycle: BillingCycle;
  anchor: string;
  period_index: number;
  period_start: string;
  period_end: string;
  /** The plans in force during the current period, in order (for proration). */
  segments: Segment[];
  cancel_at: string | null;
  eras: Era[];
  plan_history: PlanHistoryEntry[];
  closed_periods: number;
}

export const initialState = (): SubscriptionState => ({
  status: 'none',
  tenant_id: '',
  user_id: '',
  subscription_id: null,
  plan_id: '',
  billing_cycle: 'monthly',
  anchor: '',
  period_index: 0,
  period_start: '',
  period_end: '',
  segments: [],
  cancel_at: null,
  eras: [],
  plan_history: [],
  closed_periods: 0,
});

const iso = (d: Date) => d.toISOString();
const conflict = (message: string, details: Record<string, unknown> = {}) => new SubscriptionException(message, details, 409);

export function decide(command: SubscriptionCommand, state: SubscriptionState): SubscriptionEvent[] {
  switch (command.type) {
    case 'AssignDefaultPlan': {
      if (state.status !== 'none') return [];
      const { tenant_id, user_id, plan, at } = command.data;
      const p = periodAt(at, 'monthly', 0);
      return [
        {
          type: 'DefaultPlanAssigned',
          data: { tenant_id, user_id, plan_id: plan.plan_id, billing_cycle: 'monthly', price: plan.price, period_start: iso(p.start), period_end: iso(p.end), assigned_at: iso(at) },
        },
      ];
    }
    case 'Subscribe': {
      const { tenant_id, user_id, subscription_id, plan, billing_cycle, at, totals } = command.data;
      if (state.status === 'active' || state.status === 'cancelling')
        throw conflict(`User ${user_id} already has a subscription to ${state.plan_id}; change its plan instead.`, { user_id, plan_id: state.plan_id, status: state.status });
      const p = periodAt(at, billing_cycle, 0);
      const events: SubscriptionEvent[] = [];
      // The default-plan period closes now (unless it began this very moment: nothing to close).
      if (state.status === 'default' && at.getTime() > Date.parse(state.period_start)) {
        assertOpen(state, at);
        events.push(...closeEvents(state, at, 'subscribed', totals, { start: iso(p.start), end: iso(p.end), price: plan.price }));
      }
      events.push({
        type: 'Subscribed',
        data: { subscription_id, tenant_id, user_id, plan_id: plan.plan_id, billing_cycle, price: plan.price, period_start: iso(p.start), period_end: iso(p.end), subscribed_at: iso(at) },
      });
      return events;
    }
    case 'ChangePlan': {
      const { plan, current_plan, reason, at, limits, usage } = command.data;
      requireSubscription(state);
      assertOpen(state, at);
      if (plan.plan_id === state.plan_id) throw conflict(`The subscription is already on ${plan.plan_id}.`, { plan_id: plan.plan_id });
      // An upgrade costs more; at the same price the higher tier is the upgrade.
      const cmp = new Money(plan.price).comparedTo(current_plan.price);
      const up = cmp !== 0 ? cmp > 0 : plan.tier > current_plan.tier;
      const exhausted = Object.keys(limits)
        .filter((k) => (usage[k] ?? 0) >= limits[k])
        .sort();
      return [
        {
          type: 'PlanChanged',
          data: {
            subscription_id: state.subscription_id!,
            tenant_id: state.tenant_id,
            user_id: state.user_id,
            previous_plan_id: state.plan_id,
            new_plan_id: plan.plan_id,
            direction: up ? 'upgrade' : 'downgrade',
            reason,
            changed_at: iso(at),
            price: plan.price,
            period_start: state.period_start,
            period_end: state.period_end,
            exhausted_limits: exhausted,
          },
        },
      ];
    }
    case 'CancelSubscription': {
      const { immediately, reason, at, totals, fallback } = command.data;
      requireSubscription(state);
      assertOpen(state, at);
      if (!immediately && state.status === 'cancelling') return [];
      const base = { subscription_id: state.subscription_id!, tenant_id: state.tenant_id, user_id: state.user_id, plan_id: state.plan_id };
      if (!immediately) return [{ type: 'SubscriptionCancelled', data: { ...base, immediately: false, reason, cancelled_at: iso(at), effective_at: state.period_end } }];
      const next = periodAt(at, 'monthly', 0);
      return [
        { type: 'SubscriptionCancelled', data: { ...base, immediately: true, reason, cancelled_at: iso(at), effective_at: iso(at) } },
        ...closeEvents(state, at, 'cancelled', totals, { start: iso(next.start), end: iso(next.end), price: fallback.price }),
        {
          type: 'SubscriptionEnded',
          data: { ...base, ended_at: iso(at), fallback_plan_id: fallback.plan_id, fallback_price: fallback.price, period_start: iso(next.start), period_end: iso(next.end) },
        },
      ];
    }
    case 'ClosePeriod': {
      const { period_end, at, totals, next_price, fallback } = command.data;
      // Already closed (another run got there first) or not yet due: nothing to do.
      if (state.status === 'none' || state.period_end !== period_end || at.getTime() < Date.parse(state.period_end)) return [];
      const ending = state.status === 'cancelling' && state.cancel_at === state.period_end;
      const next = ending
        ? periodAt(new Date(state.period_end), 'monthly', 0)
        : periodAt(new Date(state.anchor), state.billing_cycle, state.period_index + 1);
      const events = closeEvents(state, new Date(state.period_end), 'period_end', totals, {
        start: iso(next.start),
        end: iso(next.end),
        price: ending ? fallback.price : next_price,
      }, at);
      if (ending)
        events.push({
          type: 'SubscriptionEnded',
          data: {
            subscription_id: state.subscription_id!,
            tenant_id: state.tenant_id,
            user_id: state.user_id,
            plan_id: state.plan_id,
            ended_at: state.period_end,
            fallback_plan_id: fallback.plan_id,
            fallback_price: fallback.price,
            period_start: iso(next.start),
            period_end: iso(next.end),
          },
        });
      return events;
    }
    default: {
      const unexpected: never = command;
      throw new Error(`Unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

function requireSubscription(state: SubscriptionState): void {
  if (state.status !== 'active' && state.status !== 'cancelling')
    throw conflict("The user has no subscription (the tenant's default plan applies); subscribe first.", { status: state.status });
}

/** A command at or after the period's end must wait for the period to close (the service closes due periods first). */
function assertOpen(state: SubscriptionState, at: Date): void {
  if (at.getTime() >= Date.parse(state.period_end)) throw conflict('The current billing period has ended and is being closed; retry.', { period_end: state.period_end });
}

/** PeriodReset and its billing record for the current period, closed at `endedAt`. */
function closeEvents(
  state: SubscriptionState,
  endedAt: Date,
  reason: PeriodResetData['reason'],
  totals: UsageTotals,
  next: { start: string; end: string; price: string },
  closedAt: Date = endedAt,
): SubscriptionEvent[] {
  const billing_id = billingId(state.tenant_id, state.user_id, state.period_start, state.subscription_id);
  return [
    {
      type: 'PeriodReset',
      data: {
        tenant_id: state.tenant_id,
        user_id: state.user_id,
        subscription_id: state.subscription_id,
        plan_id: state.plan_id,
        billing_cycle: state.billing_cycle,
        period_start: state.period_start,
        period_end: iso(endedAt),
        reason,
        totals,
        billing_id,
        next_period_start: next.start,
        next_period_end: next.end,
        next_price: next.price,
        closed_at: iso(closedAt),
      },
    },
    { type: 'BillingRecorded', data: billingRecord(state, endedAt, totals, billing_id, closedAt) },
  ];
}

/** Deterministic id of a period's billing record: one record per user, subscription and period start. */
export function billingId(tenantId: string, userId: string, periodStartIso: string, subscriptionId: string | null): string {
  return 'bill_' + createHash('sha256').update(`${tenantId}\u0000${userId}\u0000${periodStartIso}\u0000${subscriptionId ?? 'default'}`).digest('hex').slice(0, 24);
}

/**
 * The period's bill: each plan's price prorated by the time it was in force over the period's full (natural) length,
 * rounded to cents per plan; the usage cost exact; the total in cents.
 */
export function billingRecord(state: SubscriptionState, endedAt: Date, totals: UsageTotals, billing_id: string, recordedAt: Date = endedAt): BillingRecordedData {
  const start = Date.parse(state.period_start);
  const length = Date.parse(state.period_end) - start;
  const end = endedAt.getTime();
  const plans: BilledPlan[] = state.segments.map((s, i) => {
    const from = Math.max(Date.parse(s.from), start);
    const to = Math.min(i + 1 < state.segments.length ? Date.parse(state.segments[i + 1].from) : end, end);
    const fee = length > 0 && to > from ? toCents(new Money(s.price).times(to - from).div(length)) : new Money(0);
    return { plan_id: s.plan_id, from: new Date(from).toISOString(), to: new Date(Math.max(from, to)).toISOString(), price: s.price, base_fee: fee.toFixed(2) };
  });
  const base = plans.reduce((sum, p) => sum.plus(p.base_fee), new Money(0));
  const byProvider: Record<string, string> = {};
  for (const [p, v] of Object.entries(totals.providers)) byProvider[p] = new Money(v.cost).toFixed();
  return {
    billing_id,
    tenant_id: state.tenant_id,
    user_id: state.user_id,
    subscription_id: state.subscription_id,
    billing_cycle: state.billing_cycle,
    period_start: state.period_start,
    period_end: endedAt.toISOString(),
    plans,
    base_fee: base.toFixed(2),
    usage_cost_by_provider: byProvider,
    usage_cost: new Money(totals.cost).toFixed(),
    total: toCents(base.plus(totals.cost)).toFixed(2),
    currency: 'USD',
    status: 'pending',
    recorded_at: recordedAt.toISOString(),
  };
}

export function evolve(state: SubscriptionState, event: SubscriptionEvent): SubscriptionState {
  switch (event.type) {
    case 'DefaultPlanAssigned': {
      const d = event.data;
      return {
        ...state,
        status: 'default',
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        subscription_id: null,
        plan_id: d.plan_id,
        billing_cycle: 'monthly',
        anchor: d.period_start,
        period_index: 0,
        period_start: d.period_start,
        period_end: d.period_end,
        segments: [{ plan_id: d.plan_id, from: d.period_start, price: d.price }],
        cancel_at: null,
        eras: [...state.eras, { from: d.period_start, plan_id: d.plan_id, billing_cycle: 'monthly', anchor: d.period_start, status: 'default', subscription_id: null }],
        plan_history: [...state.plan_history, { at: d.assigned_at, change: 'default_assigned', plan_id: d.plan_id, previous_plan_id: null, billing_cycle: 'monthly', reason: null }],
      };
    }
    case 'Subscribed': {
      const d = event.data;
      return {
        ...state,
        status: 'active',
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        subscription_id: d.subscription_id,
        plan_id: d.plan_id,
        billing_cycle: d.billing_cycle,
        anchor: d.period_start,
        period_index: 0,
        period_start: d.period_start,
        period_end: d.period_end,
        segments: [{ plan_id: d.plan_id, from: d.period_start, price: d.price }],
        cancel_at: null,
        eras: [...state.eras, { from: d.period_start, plan_id: d.plan_id, billing_cycle: d.billing_cycle, anchor: d.period_start, status: 'active', subscription_id: d.subscription_id }],
        plan_history: [
          ...state.plan_history,
          { at: d.subscribed_at, change: 'subscribed', plan_id: d.plan_id, previous_plan_id: state.plan_id || null, billing_cycle: d.billing_cycle, reason: null },
        ],
      };
    }
    case 'PlanChanged': {
      const d = event.data;
      return {
        ...state,
        plan_id: d.new_plan_id,
        segments: [...state.segments, { plan_id: d.new_plan_id, from: d.changed_at, price: d.price }],
        eras: [...state.eras, { from: d.changed_at, plan_id: d.new_plan_id, billing_cycle: state.billing_cycle, anchor: state.anchor, status: 'active', subscription_id: state.subscription_id }],
        plan_history: [
          ...state.plan_history,
          { at: d.changed_at, change: d.direction, plan_id: d.new_plan_id, previous_plan_id: d.previous_plan_id, billing_cycle: state.billing_cycle, reason: d.reason },
        ],
      };
    }
    case 'SubscriptionCancelled': {
      const d = event.data;
      return {
        ...state,
        status: 'cancelling',
        cancel_at: d.effective_at,
        plan_history: [
          ...state.plan_history,
          { at: d.cancelled_at, change: d.immediately ? 'cancelled' : 'cancel_requested', plan_id: state.plan_id, previous_plan_id: null, billing_cycle: state.billing_cycle, reason: d.reason },
        ],
      };
    }
    case 'PeriodReset': {
      const d = event.data;
      return {
        ...state,
        period_index: state.period_index + 1,
        period_start: d.next_period_start,
        period_end: d.next_period_end,
        segments: [{ plan_id: state.plan_id, from: d.next_period_start, price: d.next_price }],
        closed_periods: state.closed_periods + 1,
      };
    }
    case 'BillingRecorded':
      return state;
    case 'SubscriptionEnded': {
      const d = event.data;
      return {
        ...state,
        status: 'default',
        subscription_id: null,
        plan_id: d.fallback_plan_id,
        billing_cycle: 'monthly',
        anchor: d.period_start,
        period_index: 0,
        period_start: d.period_start,
        period_end: d.period_end,
        segments: [{ plan_id: d.fallback_plan_id, from: d.period_start, price: d.fallback_price }],
        cancel_at: null,
        eras: [...state.eras, { from: d.period_start, plan_id: d.fallback_plan_id, billing_cycle: 'monthly', anchor: d.period_start, status: 'default', subscription_id: null }],
        plan_history: [...state.plan_history, { at: d.ended_at, change: 'ended', plan_id: d.fallback_plan_id, previous_plan_id: d.plan_id, billing_cycle: 'monthly', reason: null }],
      };
    }
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

export const subscriptionDecider = { initialState, decide, evolve };

/** How far before the first period a usage may be dated and still count in it (see effectiveAt). */
export const FIRST_CONTACT_GRACE_MS = 60_000;

export interface EffectiveTerms {
  status: 'active' | 'cancelling' | 'default';
  subscription_id: string | null;
  plan_id: string;
  billing_cycle: BillingCycle;
  period_start: string;
  period_end: string;
}

/**
 * The plan and billing period in force at `at`, calendar-correct even when the period-close job has not run yet
 * (a period past its end rolls over by the calendar) and after a pending cancellation takes effect.
 */
export function effectiveAt(state: SubscriptionState, at: Date, fallbackPlanId: string): EffectiveTerms {
  // A call admitted a moment before the user's first period began (concurrent first calls on several instances, each
  // with its own clock reading, race to create the default subscription) belongs to that first period, not to a
  // period before it. Older usage (a backfill of a new user's history) keeps its calendar period.
  if (state.eras.length) {
    const first = Date.parse(state.eras[0].from);
    if (at.getTime() < first && first - at.getTime() <= FIRST_CONTACT_GRACE_MS) at = new Date(first);
  }
  const t = at.getTime();
  if (state.cancel_at && t >= Date.parse(state.cancel_at)) {
    const p = periodContaining(new Date(state.cancel_at), 'monthly', at);
    return { status: 'default', subscription_id: null, plan_id: fallbackPlanId, billing_cycle: 'monthly', period_start: iso(p.start), period_end: iso(p.end) };
  }
  let eraIndex = 0;
  for (let i = 0; i < state.eras.length; i++) if (Date.parse(state.eras[i].from) <= t) eraIndex = i;
  const era = state.eras[eraIndex];
  const last = eraIndex === state.eras.length - 1;
  const status = last ? (state.status === 'none' ? 'default' : state.status) : era.status;
  if (t >= Date.parse(state.period_start) && t < Date.parse(state.period_end))
    return { status, subscription_id: era.subscription_id, plan_id: era.plan_id, billing_cycle: era.billing_cycle, period_start: state.period_start, period_end: state.period_end };
  const p = periodContaining(new Date(era.anchor), era.billing_cycle, at);
  let end = p.end.getTime();
  // A period cut short by a new anchor (a subscribe or an immediate cancel) ends there.
  const nextAnchor = state.eras.slice(eraIndex + 1).find((e) => e.anchor !== era.anchor);
  if (nextAnchor && Date.parse(nextAnchor.from) < end && Date.parse(nextAnchor.from) > t) end = Date.parse(nextAnchor.from);
  return { status, subscription_id: era.subscription_id, plan_id: era.plan_id, billing_cycle: era.billing_cycle, period_start: iso(p.start), period_end: new Date(end).toISOString() };
}
