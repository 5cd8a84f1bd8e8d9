import Decimal from 'decimal.js';
import { AppError } from '../../../libs/errors';
import { joinIdParts } from '../../../libs/ids/composite-id';
import { Money } from '../../../libs/money';
import { describeAlert } from './alert-wording';
import { limitUsage, UsageTotals } from './limit-usage';
import { Severity, severityFor } from './severity';

/** Stored event shapes (frozen: add an upcaster rather than edit a field). */
export interface UsageAlertRaisedData {
  alert_id: string;
  kind: 'usage';
  tenant_id: string;
  user_id: string;
  plan_id: string;
  limit: string;
  /** Percent of the limit (80, 90, 100 by default). */
  threshold: number;
  /** Usage of the limit when it was crossed (a count, or USD rounded to 6 places for monthly_cost). */
  value: number;
  /** The exact decimal of `value`. */
  value_exact: string;
  limit_value: number;
  severity: Severity;
  title: string;
  message: string;
  period_start: string;
  period_end: string;
  /** The usage event that crossed the threshold, and when it happened. */
  usage_id: string;
  raised_at: string;
}

export interface RenewalNoticeRaisedData {
  alert_id: string;
  kind: 'renewal';
  tenant_id: string;
  user_id: string;
  plan_id: string;
  severity: 'info';
  title: string;
  message: string;
  period_start: string;
  period_end: string;
  raised_at: string;
}

export interface AlertReadData {
  alert_id: string;
  tenant_id: string;
  user_id: string;
  read_at: string;
}

export type AlertEvent =
  | { type: 'UsageAlertRaised'; data: UsageAlertRaisedData }
  | { type: 'RenewalNoticeRaised'; data: RenewalNoticeRaisedData }
  | { type: 'AlertRead'; data: AlertReadData };

export const ALERT_EVENT_TYPES = ['UsageAlertRaised', 'RenewalNoticeRaised', 'AlertRead'] as const;

export type AlertCommand =
  | { type: 'RaiseUsageAlert'; data: UsageAlertRaisedData }
  | { type: 'RaiseRenewalNotice'; data: RenewalNoticeRaisedData }
  | { type: 'MarkAlertRead'; data: AlertReadData };

export interface AlertState {
  raised: { alert_id: string; tenant_id: string; user_id: string } | null;
  read: boolean;
}

/**
 * One stream per (tenant, user, period, limit, threshold): appending it with `no_stream` makes the alert happen once.
 * The parts are length-prefixed: tenant and user ids may contain `-`.
 */
export const usageAlertStreamId = (tenantId: string, userId: string, periodStart: string, limit: string, threshold: number) =>
  `alert.usage-${joinIdParts(tenantId, userId, periodStart, limit, String(threshold))}`;
export const renewalNoticeStreamId = (tenantId: string, userId: string, periodStart: string) => `alert.renewal-${joinIdParts(tenantId, userId, periodStart)}`;

/**
 * The names alerts had before: `a-b` + `c` and `a` + `b-c` meet, so they are only read (an alert raised under one
 * is not raised again), never written.
 */
export const legacyUsageAlertStreamId = (tenantId: string, userId: string, periodStart: string, limit: string, threshold: number) =>
  `alert-${tenantId}-${userId}-${periodStart}-${limit}-${threshold}`;
export const legacyRenewalNoticeStreamId = (tenantId: string, userId: string, periodStart: string) => `alert-${tenantId}-${userId}-${periodStart}-renewal`;

/** Whether a raise stored under a legacy name is this alert's own (that name may belong to another tuple). */
export function isSameAlert(stored: UsageAlertRaisedData | RenewalNoticeRaisedData, wanted: UsageAlertRaisedData | RenewalNoticeRaisedData): boolean {
  if (stored.kind !== wanted.kind || stored.tenant_id !== wanted.tenant_id || stored.user_id !== wanted.user_id || stored.period_start !== wanted.period_start) return false;
  if (stored.kind === 'usage' && wanted.kind === 'usage') return stored.limit === wanted.limit && stored.threshold === wanted.threshold;
  return true;
}

export const alertDecider = {
  initialState: (): AlertState => ({ raised: null, read: false }),

  evolve(state: AlertState, event: AlertEvent): AlertState {
    switch (event.type) {
      case 'UsageAlertRaised':
      case 'RenewalNoticeRaised':
        return { ...state, raised: { alert_id: event.data.alert_id, tenant_id: event.data.tenant_id, user_id: event.data.user_id } };
      case 'AlertRead':
        return { ...state, read: true };
      default: {
        const never: never = event;
        return never;
      }
    }
  },

  decide(command: AlertCommand, state: AlertState): AlertEvent[] {
    switch (command.type) {
      case 'RaiseUsageAlert':
        return state.raised ? [] : [{ type: 'UsageAlertRaised', data: command.data }];
      case 'RaiseRenewalNotice':
        return state.raised ? [] : [{ type: 'RenewalNoticeRaised', data: command.data }];
      case 'MarkAlertRead':
        if (!state.raised) throw new AppError(404, 'not_found', 'Alert not found.', { alert_id: command.data.alert_id });
        return state.read ? [] : [{ type: 'AlertRead', data: command.data }];
      default: {
        const never: never = command;
        return never;
      }
    }
  },
};

/** A threshold of a limit that the usage has reached. */
export interface ThresholdReached {
  limit: string;
  threshold: number;
  value: Decimal;
  limit_value: number;
  severity: Severity;
  title: string;
  message: string;
}

export const thresholdKey = (limit: string, threshold: number) => `${limit}:${threshold}`;

function isAscending(values: readonly number[]): boolean {
  for (let i = 1; i < values.length; i++) if (values[i] < values[i - 1]) return false;
  return true;
}

/**
 * Every (limit, threshold) the totals have reached (usage >= threshold% of the limit) that is not yet raised.
 * A limit of 0 or less, or no usage of it, raises nothing (a zero limit refuses calls before they are recorded).
 */
export function thresholdsReached(
  limits: Record<string, number>,
  thresholds: readonly number[],
  totals: UsageTotals,
  alreadyRaised: ReadonlySet<string>,
): ThresholdReached[] {
  const out: ThresholdReached[] = [];
  const ascending = isAscending(thresholds) ? thresholds : [...thresholds].sort((a, b) => a - b);
  for (const limit in limits) {
    const limitValue = limits[limit];
    if (typeof limitValue !== 'number' || !(limitValue > 0)) continue;
    if (alreadyRaised.size && ascending.every((t) => alreadyRaised.has(thresholdKey(limit, t)))) continue;
    // A count is a number; a cost an exact decimal string (never negative, so its Number is 0 only when it is 0).
    const used = limitUsage(limit, totals);
    if (!((typeof used === 'number' ? used : Number(used)) > 0)) continue;
    for (const threshold of ascending) {
      // Below this threshold is below every higher one too.
      if (below(used, limitValue, threshold)) break;
      if (alreadyRaised.has(thresholdKey(limit, threshold))) continue;
      const severity = severityFor(threshold);
      const exact = new Money(used);
      out.push({ limit, threshold, value: exact, limit_value: limitValue, severity, ...describeAlert(limit, severity, exact, limitValue) });
    }
  }
  return out;
}

/**
 * Whether usage is below threshold% of the limit, exactly. Whole counts compare as integers. Otherwise the floats
 * decide when they are clearly apart (their error is some 1e-16 of the values, the margin here 1e-9), and Decimals
 * only near the boundary: the watcher asks for every recorded call, and a cost reaches a threshold once a period.
 */
function below(used: number | string, limitValue: number, threshold: number): boolean {
  const target = limitValue * threshold;
  if (typeof used === 'number' && Number.isSafeInteger(target)) return used * 100 < target;
  const scaled = (typeof used === 'number' ? used : Number(used)) * 100;
  if (Math.abs(scaled - target) > 1e-9 * Math.max(Math.abs(scaled), Math.abs(target))) return scaled < target;
  return new Money(used).lt(new Money(limitValue).times(threshold).div(100));
}
