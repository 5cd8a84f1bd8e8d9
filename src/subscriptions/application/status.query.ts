import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { billedToJson, costToJson, exactString, Money } from '../../../libs/money';
import { AppError } from '../../../libs/errors';
import { IdentityFacade } from '../../identity';
import { PlansFacade } from '../../plans';
import { billingRecord } from '../domain/subscription';
import { addDays, dailyCountPace, DayCounts, dayKey, daysLeft, daysRemaining, projectCount, round2, usageTrend } from '../domain/usage-outlook';
import { BILLING_HISTORY, BillingHistoryDoc } from '../projections/billing-history.projection';
import { DailyUsageDoc, SUBSCRIPTION_USAGE_DAILY } from '../projections/subscription-usage.projection';
import { SubscriptionsService, usageByLimit } from './subscriptions.service';
import { SubscriptionState } from '../domain/subscription';

const SEVERITY = (threshold: number) => (threshold >= 100 ? 'critical' : threshold >= 90 ? 'warning' : 'info');

/** The second specification's subscription status, and the billing history. */
@Injectable()
export class SubscriptionStatusQuery {
  constructor(
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly subscriptions: SubscriptionsService,
    private readonly plans: PlansFacade,
    private readonly identity: IdentityFacade,
  ) {}

  /** The user's state; 404 (as for any absent user) when the tenant never had this user. */
  async known(tenantId: string, userId: string): Promise<SubscriptionState> {
    const s = await this.subscriptions.state(tenantId, userId);
    if (s.status !== 'none') return s;
    if (await this.identity.userHasKey(tenantId, userId)) return this.subscriptions.ensure(tenantId, userId, this.clock.now());
    throw new AppError(404, 'not_found', 'User not found.');
  }

  async status(tenantId: string, userId: string, includeHistory: boolean) {
    const now = this.clock.now();
    const state = await this.known(tenantId, userId);
    const eff = await this.subscriptions.effective(state, now);
    const plan = this.plans.getPlan(eff.plan_id);
    const totals = await this.subscriptions.totals(tenantId, userId, eff.period_start);
    const daily = await this.daily(tenantId, userId, now);

    const allocated = eff.limits.total_tokens ?? null;
    const used = totals.tokens;
    const today = dayKey(now);
    // One definition with the dashboard's (src/subscriptions/domain/usage-outlook.ts): tokens here.
    const pace = dailyCountPace(today, dayKey(new Date(eff.period_start)), (d) => daily[d]?.tokens ?? 0);
    const projected = Math.round(projectCount(used, pace, daysLeft(eff.period_end, now)));
    const byLimit = usageByLimit(totals);

    const alerts = [];
    const recommendations: string[] = [];
    for (const [limit, value] of Object.entries(eff.limits)) {
      const u = byLimit[limit] ?? 0;
      const pct = value > 0 ? (u / value) * 100 : u > 0 ? 100 : 0;
      const crossed = [...eff.alert_thresholds].sort((a, b) => b - a).find((t) => pct >= t);
      if (crossed !== undefined)
        alerts.push({ limit, threshold: crossed, severity: SEVERITY(crossed), used: u, limit_value: value, message: `${round2(pct)}% of ${limit} used (${u} of ${value}).` });
    }
    const next = this.plans.nextPlanAbove(eff.plan_id);
    if (allocated !== null && projected > allocated)
      recommendations.push(next ? `At this rate you will use about ${projected} tokens this period, more than the ${allocated} allocated: consider upgrading to ${next.name}.` : `At this rate you will use about ${projected} tokens this period, more than the ${allocated} allocated.`);
    if (eff.status === 'cancelling') recommendations.push(`The subscription ends on ${eff.period_end}; the ${(await this.subscriptions.defaultTerms(tenantId)).plan_id} plan applies after that.`);
    if (alerts.some((a) => a.threshold >= 100) && next && !recommendations.some((r) => r.includes(next.name))) recommendations.push(`A limit is used up: upgrade to ${next.name} for higher limits.`);

    // What the record will say at the period's end if nothing changes: the base fees prorated so far plus usage so far.
    const estimate = state.status !== 'none' && eff.period_start === state.period_start ? billingRecord(state, new Date(state.period_end), totals, '') : null;

    return {
      tenant_id: tenantId,
      user_id: userId,
      subscription_id: eff.subscription_id,
      plan_id: eff.plan_id,
      plan_name: eff.plan_name,
      billing_cycle: eff.billing_cycle,
      status: eff.status,
      period_start: eff.period_start,
      period_end: eff.period_end,
      cancel_at: state.cancel_at,
      allocated_tokens: allocated,
      current_usage: used,
      remaining_tokens: allocated === null ? null : Math.max(0, allocated - used),
      usage_percentage: allocated ? round2((used / allocated) * 100) : 0,
      days_remaining_in_period: daysRemaining(eff.period_end, now),
      avg_daily_usage: round2(pace.average),
      projected_monthly_usage: projected,
      projection_basis: pace.basis,
      averaging_days: pace.days,
      usage_trend: usageTrend(daily, today),
      current_calls: totals.calls,
      current_cost: costToJson(totals.cost),
      current_cost_exact: exactString(totals.cost),
      limits: eff.limits,
      remaining: Object.fromEntries(Object.entries(eff.limits).map(([k, v]) => [k, Math.max(0, v - (byLimit[k] ?? 0))])),
      next_billing_date: eff.period_end,
      next_billing_amount: estimate ? billedToJson(estimate.total) : billedToJson(new Money(plan ? (eff.billing_cycle === 'yearly' ? plan.yearly_price : plan.monthly_price) : 0)),
      currency: 'USD',
      alerts,
      recommendations,
      ...(includeHistory ? { plan_history: state.plan_history } : {}),
    };
  }

  async billing(tenantId: string, userId: string, limit: number, cursor?: string) {
    await this.known(tenantId, userId);
    const page = await this.reads
      .collection<BillingHistoryDoc>(BILLING_HISTORY)
      .find({ tenant_id: tenantId, user_id: userId }, { sort: { field: 'period_start', direction: 'desc' }, limit, cursor });
    return { billing_history: page.items.map((d) => this.billingJson(d)), next_cursor: page.nextCursor };
  }

  billingJson(d: BillingHistoryDoc) {
    return {
      billing_id: d.billing_id,
      subscription_id: d.subscription_id,
      period_start: d.period_start,
      period_end: d.period_end,
      billing_cycle: d.billing_cycle,
      plans: d.plans.map((p) => ({ plan_id: p.plan_id, plan_name: this.plans.getPlan(p.plan_id)?.name ?? p.plan_id, from: p.from, to: p.to, price: billedToJson(p.price), base_fee: billedToJson(p.base_fee) })),
      base_fee: billedToJson(d.base_fee),
      usage_cost: costToJson(d.usage_cost),
      usage_cost_exact: d.usage_cost,
      usage_cost_by_provider: Object.fromEntries(Object.entries(d.usage_cost_by_provider).map(([p, c]) => [p, costToJson(c)])),
      total: billedToJson(d.total),
      currency: d.currency,
      status: d.status,
      created_at: d.recorded_at,
    };
  }

  /** Calls and tokens of today and the 7 days before (the average's window and the trend's six days). */
  private async daily(tenantId: string, userId: string, now: Date): Promise<Record<string, DayCounts>> {
    const from = addDays(dayKey(now), -7);
    const page = await this.reads.collection<DailyUsageDoc>(SUBSCRIPTION_USAGE_DAILY).find({ tenant_id: tenantId, user_id: userId, day: { $gte: from } }, { limit: 10 });
    return Object.fromEntries(page.items.map((d) => [d.day, { calls: d.calls, tokens: d.tokens }]));
  }
}
