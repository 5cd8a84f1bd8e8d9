import { Inject, Injectable } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { Filter } from '../../../libs/read-store/port';
import { Severity } from '../domain/severity';
import { AlertDoc, USAGE_ALERTS, UsageAlertsProjection } from '../projections/usage-alerts.projection';

/** An alert as the API shows it (the specification's fields first). */
export interface AlertView {
  alert_id: string;
  limit: string | null;
  threshold: number | null;
  severity: Severity;
  title: string;
  message: string;
  is_read: boolean;
  created_at: string;
  kind: 'usage' | 'renewal';
  value: number | null;
  limit_value: number | null;
  period_start: string;
  period_end: string;
  read_at: string | null;
}

export interface AlertFilter {
  is_read?: boolean;
  severity?: Severity;
  /** A period start (ISO) or a prefix of one ("2025-03"). */
  period?: string;
  limit?: number;
}

export function toAlertView(d: AlertDoc): AlertView {
  return {
    alert_id: d.alert_id,
    limit: d.limit,
    threshold: d.threshold,
    severity: d.severity,
    title: d.title,
    message: d.message,
    is_read: d.is_read,
    created_at: d.created_at,
    kind: d.kind,
    value: d.value,
    limit_value: d.limit_value,
    period_start: d.period_start,
    period_end: d.period_end,
    read_at: d.read_at,
  };
}

/** Alerts' query facade: what the dashboard and the API read. */
@Injectable()
export class AlertsFacade {
  constructor(
    @Inject(READ_STORE) private readonly reads: ReadStore,
    private readonly projection: UsageAlertsProjection,
  ) {}

  /** A user's alerts, unread first, then newest first. */
  async list(tenantId: string, userId: string, filter: AlertFilter = {}): Promise<AlertView[]> {
    const f: Filter = { tenant_id: tenantId, user_id: userId };
    if (filter.is_read !== undefined) f.is_read = filter.is_read;
    if (filter.severity) f.severity = filter.severity;
    if (filter.period) {
      const p = filter.period;
      if (/^\d{4}-\d{2}-\d{2}T/.test(p)) f.period_start = new Date(p).toISOString();
      else f.period_start = { $gte: p, $lt: p + '\uffff' };
    }
    const page = await this.reads.collection<AlertDoc>(USAGE_ALERTS).find(f, { sort: { field: 'created_at', direction: 'desc' }, limit: filter.limit ?? 500 });
    // Unread first, then newest first; alerts raised by the same call: the higher threshold first.
    return page.items
      .map(toAlertView)
      .sort((a, b) => Number(a.is_read) - Number(b.is_read) || b.created_at.localeCompare(a.created_at) || (b.threshold ?? 0) - (a.threshold ?? 0));
  }

  unread(tenantId: string, userId: string, limit = 50): Promise<AlertView[]> {
    return this.list(tenantId, userId, { is_read: false, limit });
  }

  async get(alertId: string): Promise<AlertView & { tenant_id: string; user_id: string; stream_id: string } | null> {
    const d = await this.reads.collection<AlertDoc>(USAGE_ALERTS).get(alertId);
    return d ? { ...toAlertView(d), tenant_id: d.tenant_id, user_id: d.user_id, stream_id: d.stream_id } : null;
  }

  /** Changes whenever the user's alerts change: for caches of what shows them. */
  version(tenantId: string, userId: string): string {
    return this.projection.versionOf(tenantId, userId);
  }
}
