import { Projection } from '../../../libs/projections';
import { StoredEvent } from '../../../libs/event-store/port';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { costToJson } from '../../../libs/money';
import { isoTime } from '../../../libs/clock';
import type { UsageRecordedData } from '../../metering';
import type { PlansFacade } from '../../plans';
import type { SubscriptionsFacade } from '../../subscriptions';
import { thresholdKey, thresholdsReached } from '../domain/alert';
import { addUsageInPlace, emptyTotals, UsageTotals } from '../domain/limit-usage';
import { RaiseAlertHandler } from './raise-alert.handler';

export const ALERT_TRACKER = 'alert_usage_tracker';

/** The watcher's own state: one user's usage in one period, and the thresholds already raised. */
export interface TrackerDoc {
  _id: string;
  [key: string]: unknown;
  tenant_id: string;
  user_id: string;
  period_start: string;
  period_end: string;
  plan_id: string;
  totals: UsageTotals;
  raised: string[];
}

export const trackerId = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${periodStart}`;
export const DEFAULT_THRESHOLDS = [80, 90, 100];
const NONE_RAISED: ReadonlySet<string> = new Set();

interface Limits {
  limits: Readonly<Record<string, number>>;
  thresholds: readonly number[];
}

/**
 * Process manager: follows `UsageRecorded` from the log with its own checkpointed subscription, keeps per-period
 * usage per user, and raises an alert for each threshold of each plan limit the usage reaches. Its state commits with
 * its checkpoint; a replay (rebuild) recomputes the state and finds every alert stream already written, so nothing is
 * raised twice. Limits come from the plan the usage was recorded under (the event's `plan_id`), so a replay decides
 * as the first run did.
 */
export class ThresholdWatcherProcess implements Projection {
  readonly name = 'alert-threshold-watcher';
  readonly eventTypes = ['UsageRecorded'] as const;
  readonly collections = [ALERT_TRACKER] as const;

  constructor(
    private readonly raiser: RaiseAlertHandler,
    private readonly plans: PlansFacade,
    private readonly subscriptions: SubscriptionsFacade,
  ) {}

  async setup(store: ReadStore): Promise<void> {
    await store.collection(ALERT_TRACKER).ensureIndex(['period_end']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as UsageRecordedData;
    const periodStart = isoTime(d.period_start);
    const id = trackerId(d.tenant_id, d.user_id, periodStart);
    const trackers = batch.collection<TrackerDoc>(ALERT_TRACKER);
    const doc: TrackerDoc = (await trackers.get(id)) ?? {
      _id: id,
      tenant_id: d.tenant_id,
      user_id: d.user_id,
      period_start: periodStart,
      period_end: isoTime(d.period_end),
      plan_id: d.plan_id,
      totals: emptyTotals(),
      raised: [],
    };
    doc.plan_id = d.plan_id;
    doc.period_end = isoTime(d.period_end);
    addUsageInPlace(doc.totals, {
      provider: d.provider,
      tokens: (d.input_tokens ?? 0) + (d.output_tokens ?? 0),
      units: d.units ?? 0,
      cost: d.cost ?? '0',
    });
    // The plan as it stood when the usage was stored: this watcher may run ahead of this thread's plan subscription.
    if (!this.plans.knowsUpTo(event.position)) await this.plans.catchUpTo(event.position);
    const { limits, thresholds } = this.planLimits(d.plan_id) ?? (await this.subscriptionLimits(d));
    const raised = doc.raised.length ? new Set(doc.raised) : NONE_RAISED;
    const reached = thresholdsReached(limits, thresholds, doc.totals, raised);
    for (const r of reached) {
      const alertId = RaiseAlertHandler.usageAlertId(d.tenant_id, d.user_id, periodStart, r.limit, r.threshold);
      await this.raiser.raiseUsageAlert(
        {
          alert_id: alertId,
          kind: 'usage',
          tenant_id: d.tenant_id,
          user_id: d.user_id,
          plan_id: d.plan_id,
          limit: r.limit,
          threshold: r.threshold,
          value: r.limit === 'monthly_cost' || r.limit.endsWith('_cost') ? costToJson(r.value) : r.value.toNumber(),
          value_exact: r.value.toFixed(),
          limit_value: r.limit_value,
          severity: r.severity,
          title: r.title,
          message: r.message,
          period_start: periodStart,
          period_end: doc.period_end,
          usage_id: d.usage_id,
          raised_at: isoTime(d.occurred_at),
        },
        event.id,
      );
    }
    if (reached.length) doc.raised = [...raised, ...reached.map((r) => thresholdKey(r.limit, r.threshold))];
    await trackers.put(doc);
  }

  /** The limits of the plan the usage was recorded under, when this thread knows it (the usual case: no await). */
  private planLimits(planId: string): Limits | null {
    const plan = this.plans.readPlan(planId);
    return plan && limitsOf(plan);
  }

  /** A plan this thread does not know (removed since): the limits of the user's subscription at the call's time. */
  private async subscriptionLimits(d: UsageRecordedData): Promise<Limits> {
    return limitsOf(await this.subscriptions.getEffective(d.tenant_id, d.user_id, new Date(d.occurred_at)));
  }
}

/** A plan's or a subscription's limits, with the default thresholds when it names none. */
function limitsOf(terms: { limits?: Readonly<Record<string, number>>; alert_thresholds?: readonly number[] }): Limits {
  return { limits: terms.limits ?? {}, thresholds: terms.alert_thresholds?.length ? terms.alert_thresholds : DEFAULT_THRESHOLDS };
}
