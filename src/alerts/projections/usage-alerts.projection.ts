import { StoredEvent } from '../../../libs/event-store/port';
import { Projection, UserVersions } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { AlertEvent } from '../domain/alert';
import { Severity } from '../domain/severity';

export const USAGE_ALERTS = 'usage_alerts';

/** The `usage_alerts` read model: one document per alert with its read state. */
export interface AlertDoc {
  _id: string;
  [key: string]: unknown;
  alert_id: string;
  stream_id: string;
  kind: 'usage' | 'renewal';
  tenant_id: string;
  user_id: string;
  limit: string | null;
  threshold: number | null;
  severity: Severity;
  title: string;
  message: string;
  value: number | null;
  limit_value: number | null;
  period_start: string;
  period_end: string;
  is_read: boolean;
  read_at: string | null;
  created_at: string;
}

export class UsageAlertsProjection implements Projection {
  readonly name = 'usage-alerts';
  readonly eventTypes = ['UsageAlertRaised', 'RenewalNoticeRaised', 'AlertRead'] as const;
  readonly collections = [USAGE_ALERTS] as const;
  /** Bumped per user on every committed change: the dashboard cache keys on it. */
  private readonly versions = new UserVersions();

  async setup(store: ReadStore): Promise<void> {
    this.versions.newGeneration();
    const c = store.collection(USAGE_ALERTS);
    await c.ensureIndex(['tenant_id', 'user_id', 'created_at']);
    await c.ensureIndex(['tenant_id', 'user_id', 'is_read']);
  }

  async handle(raw: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const alerts = batch.collection<AlertDoc>(USAGE_ALERTS);
    const event = { type: raw.type, data: raw.data } as AlertEvent;
    switch (event.type) {
      case 'UsageAlertRaised': {
        const d = event.data;
        await alerts.put({
          _id: d.alert_id,
          alert_id: d.alert_id,
          stream_id: raw.streamId,
          kind: 'usage',
          tenant_id: d.tenant_id,
          user_id: d.user_id,
          limit: d.limit,
          threshold: d.threshold,
          severity: d.severity,
          title: d.title,
          message: d.message,
          value: d.value,
          limit_value: d.limit_value,
          period_start: d.period_start,
          period_end: d.period_end,
          is_read: false,
          read_at: null,
          created_at: d.raised_at,
        });
        return;
      }
      case 'RenewalNoticeRaised': {
        const d = event.data;
        await alerts.put({
          _id: d.alert_id,
          alert_id: d.alert_id,
          stream_id: raw.streamId,
          kind: 'renewal',
          tenant_id: d.tenant_id,
          user_id: d.user_id,
          limit: null,
          threshold: null,
          severity: d.severity,
          title: d.title,
          message: d.message,
          value: null,
          limit_value: null,
          period_start: d.period_start,
          period_end: d.period_end,
          is_read: false,
          read_at: null,
          created_at: d.raised_at,
        });
        return;
      }
      case 'AlertRead':
        await alerts.upsert(event.data.alert_id, { set: { is_read: true, read_at: event.data.read_at } });
        return;
      default: {
        const never: never = event;
        return never;
      }
    }
  }

  afterCommit(events: StoredEvent[]): void {
    this.versions.bump(events);
  }

  /** Changes whenever this user's alerts change in this process (or the read model is rebuilt). */
  versionOf(tenantId: string, userId: string): string {
    return this.versions.of(tenantId, userId);
  }
}
