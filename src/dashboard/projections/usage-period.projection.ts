import { StoredEvent } from '../../../libs/event-store/port';
import { isoTime } from '../../../libs/clock';
import { Projection, UserVersions } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { addUsageInPlace, emptyTotals, UsageTotals } from '../../alerts';
import type { UsageRecordedData } from '../../metering';

export const USAGE_PERIOD_TOTALS = 'dashboard_period_totals';

/** One user's usage in one billing period (the event's `period_start`), with errors per provider. */
export interface PeriodDoc extends UsageTotals {
  _id: string;
  [key: string]: unknown;
  tenant_id: string;
  user_id: string;
  period_start: string;
  period_end: string;
  errors: Record<string, number>;
  last_occurred_at: string;
}

export const periodId = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${isoTime(periodStart)}`;

/** The dashboard's period totals: one document read per dashboard, whatever the number of calls. */
export class UsagePeriodProjection implements Projection {
  readonly name = 'dashboard-period-totals';
  /** What UserVersions.bump reads. */
  readonly afterCommitReads = ['tenant_id', 'user_id'] as const;
  readonly eventTypes = ['UsageRecorded'] as const;
  readonly collections = [USAGE_PERIOD_TOTALS] as const;
  /** Bumped per user on every committed change: the dashboard cache keys on it. */
  private readonly versions = new UserVersions();

  async setup(store: ReadStore): Promise<void> {
    this.versions.newGeneration();
    await store.collection(USAGE_PERIOD_TOTALS).ensureIndex(['tenant_id', 'user_id', 'period_start']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as UsageRecordedData;
    const id = periodId(d.tenant_id, d.user_id, d.period_start);
    const periods = batch.collection<PeriodDoc>(USAGE_PERIOD_TOTALS);
    const occurred = isoTime(d.occurred_at);
    const doc = (await periods.get(id)) ?? {
      _id: id,
      tenant_id: d.tenant_id,
      user_id: d.user_id,
      period_start: isoTime(d.period_start),
      period_end: isoTime(d.period_end),
      ...emptyTotals(),
      errors: {},
      last_occurred_at: occurred,
    };
    doc.period_end = isoTime(d.period_end);
    addUsageInPlace(doc, { provider: d.provider, tokens: (d.input_tokens ?? 0) + (d.output_tokens ?? 0), units: d.units ?? 0, cost: d.cost ?? '0' });
    if (d.status >= 400) {
      const errors = (doc.errors ??= {});
      errors[d.provider] = (errors[d.provider] ?? 0) + 1;
    }
    if (occurred > doc.last_occurred_at) doc.last_occurred_at = occurred;
    await periods.put(doc);
  }

  afterCommit(events: StoredEvent[]): void {
    this.versions.bump(events);
  }

  versionOf(tenantId: string, userId: string): string {
    return this.versions.of(tenantId, userId);
  }
}
