import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { costToJson, exactString } from '../../../libs/money';
import { AlertsFacade, emptyTotals, UsageTotals } from '../../alerts';
import { PlansFacade } from '../../plans';
import { APP_CONFIG, AppConfig } from '../../shell';
import { SubscriptionsFacade } from '../../subscriptions';
import { addDays, dayKey } from '../domain/calendar';
import { PlanSummary, PROJECTION_METHOD, recommendations, TREND_WINDOW_DAYS, usageOutlook } from '../domain/usage-outlook';
import { UsageDailyProjection } from '../projections/usage-daily.projection';
import { UsagePeriodProjection } from '../projections/usage-period.projection';
import { UsageDaysReader } from './usage-days.reader';

const CACHE_ENTRIES = 10_000;

export type UsageStatus = 'active' | 'warning' | 'limit_reached' | 'suspended';

/**
 * The dashboard: the specification's JSON from pre-aggregated read models (one period document, the period's daily
 * buckets, the unread alerts) and in-memory plans and subscriptions, so its cost does not grow with history.
 * A small cache (off with SUBSCRIPTION_DASHBOARD_NOCACHE) is keyed by the versions of the read models it came from
 * (bumped when a committed batch touches the user), the subscription, and the minute (projections move with time).
 */
@Injectable()
export class DashboardQuery {
  private readonly cache = new Map<string, unknown>();

  constructor(
    private readonly reader: UsageDaysReader,
    private readonly alerts: AlertsFacade,
    private readonly plans: PlansFacade,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly periodModel: UsagePeriodProjection,
    private readonly dailyModel: UsageDailyProjection,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async dashboard(tenantId: string, userId: string): Promise<Record<string, unknown>> {
    const now = this.clock.now();
    const sub = await this.subscriptions.getEffective(tenantId, userId, now);
    const key = this.config.dashboardNoCache
      ? null
      : [
          tenantId,
          userId,
          this.periodModel.versionOf(tenantId, userId),
          this.dailyModel.versionOf(tenantId, userId),
          this.alerts.version(tenantId, userId),
          sub.plan_id,
          sub.status,
          sub.period_start,
          sub.period_end,
          JSON.stringify(sub.limits),
          Math.floor(now.getTime() / 60_000),
        ].join('|');
    if (key) {
      const hit = this.cache.get(key);
      if (hit) {
        this.cache.delete(key);
        this.cache.set(key, hit);
        return hit as Record<string, unknown>;
      }
    }
    const result = await this.compute(tenantId, userId, now, sub);
    if (key) {
      this.cache.set(key, result);
      if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    }
    return result;
  }

  private async compute(tenantId: string, userId: string, now: Date, sub: Awaited<ReturnType<SubscriptionsFacade['getEffective']>>) {
    const periodStart = new Date(sub.period_start);
    const periodEnd = new Date(sub.period_end);
    const today = dayKey(now);
    const firstDay = [dayKey(periodStart), addDays(today, -2 * TREND_WINDOW_DAYS)].sort()[0];
    const [periodDoc, daily, unread] = await Promise.all([
      this.reader.period(tenantId, userId, sub.period_start),
      this.reader.days(tenantId, userId, firstDay, today),
      this.alerts.unread(tenantId, userId),
    ]);
    const totals: UsageTotals = periodDoc ?? emptyTotals();
    const limits = sub.limits ?? {};
    const outlook = usageOutlook({ now, periodStart, periodEnd, totals, daily, limits });

    const thresholds = sub.alert_thresholds?.length ? sub.alert_thresholds : [80, 90, 100];
    const percents = Object.values(outlook.usage_percentages);
    const status = (sub.status as string) === 'suspended' ? 'suspended' : percents.some((p) => p >= 100) ? 'limit_reached' : percents.some((p) => p >= Math.min(...thresholds)) ? 'warning' : 'active';

    const provider_breakdown: Record<string, unknown> = {};
    for (const [p, v] of Object.entries(totals.providers).sort(([a], [b]) => a.localeCompare(b)))
      provider_breakdown[p] = { calls: v.calls, cost: costToJson(v.cost), tokens: v.tokens, units: v.units, cost_exact: exactString(v.cost), errors: periodDoc?.errors?.[p] ?? 0 };

    const usage_percentages: Record<string, number | null> = { ...outlook.usage_percentages };
    usage_percentages.cost = typeof limits.monthly_cost === 'number' ? outlook.usage_percentages.monthly_cost : null;

    const plan = this.plans.getPlan(sub.plan_id);
    const next = this.plans.nextPlanAbove(sub.plan_id);
    const summary = (p: typeof plan): PlanSummary | null => (p ? { plan_id: p.plan_id, name: p.name, monthly_price: p.monthly_price, limits: p.limits ?? {} } : null);
    const daysRemaining = outlook.days_remaining;

    return {
      user_id: userId,
      tenant_id: tenantId,
      generated_at: now.toISOString(),
      current_usage: {
        total_calls: totals.calls,
        total_cost: costToJson(totals.cost),
        total_cost_exact: exactString(totals.cost),
        total_tokens: totals.tokens,
        total_units: totals.units,
        usage_status: status,
        provider_breakdown,
      },
      limits: { plan_id: sub.plan_id, plan_name: sub.plan_name, limits, alert_thresholds: thresholds },
      usage_percentages,
      projections: {
        projected_monthly_cost: costToJson(outlook.projected_cost),
        projected_usage_percentage: outlook.projected_usage_percentage,
        method: PROJECTION_METHOD,
        basis: outlook.basis,
        projected_limit_dates: outlook.projected_limit_dates,
        projected_percentages: outlook.projected_percentages,
        projected_calls: outlook.projected_calls,
        projected_tokens: outlook.projected_tokens,
        avg_daily_calls: outlook.avg_daily_calls,
        avg_daily_tokens: outlook.avg_daily_tokens,
        avg_daily_cost: outlook.avg_daily_cost,
        averaging_days: outlook.averaging_days,
      },
      alerts: unread,
      usage_trend: outlook.usage_trend,
      recommendations: recommendations(outlook, totals, summary(plan), summary(next)),
      period: { start: sub.period_start, end: sub.period_end, days_elapsed: outlook.days_elapsed, days_remaining: daysRemaining },
      period_start: sub.period_start,
      period_end: sub.period_end,
      days_remaining_in_period: Math.ceil(daysRemaining),
      billing_cycle: sub.billing_cycle,
      subscription_status: sub.status,
    };
  }
}
