import { StoredEvent } from '../../../libs/event-store/port';
import { Projection, UserVersions } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { addUsageInPlace, emptyTotals, UsageTotals } from '../../alerts';
import type { UsageRecordedData } from '../../metering';
import { dayKey } from '../domain/calendar';

export const USAGE_DAILY = 'usage_daily';

/** One user's usage on one UTC day (of `occurred_at`): calls, tokens, units and exact cost, in total and per provider. */
export interface DailyDoc extends UsageTotals {
  _id: string;
  [key: string]: unknown;
  tenant_id: string;
  user_id: string;
  day: string;
}

export const dailyId = (tenantId: string, userId: string, day: string) => `${tenantId}|${userId}|${day}`;

/** The daily buckets behind trends, averages and projections: a dashboard reads a bounded number of them. */
export class UsageDailyProjection implements Projection {
  readonly name = 'usage-daily';
  /** What UserVersions.bump reads. */
  readonly afterCommitReads = ['tenant_id', 'user_id'] as const;
  readonly eventTypes = ['UsageRecorded'] as const;
  readonly collections = [USAGE_DAILY] as const;
  /** Bumped per user on every committed change: the dashboard cache keys on it. */
  private readonly versions = new UserVersions();

  async setup(store: ReadStore): Promise<void> {
    this.versions.newGeneration();
    await store.collection(USAGE_DAILY).ensureIndex(['tenant_id', 'user_id', 'day']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as UsageRecordedData;
    const day = dayKey(d.occurred_at);
    const id = dailyId(d.tenant_id, d.user_id, day);
    const days = batch.collection<DailyDoc>(USAGE_DAILY);
    const doc = (await days.get(id)) ?? { _id: id, tenant_id: d.tenant_id, user_id: d.user_id, day, ...emptyTotals() };
    addUsageInPlace(doc, { provider: d.provider, tokens: (d.input_tokens ?? 0) + (d.output_tokens ?? 0), units: d.units ?? 0, cost: d.cost ?? '0' });
    await days.put(doc);
  }

  afterCommit(events: StoredEvent[]): void {
    this.versions.bump(events);
  }

  versionOf(tenantId: string, userId: string): string {
    return this.versions.of(tenantId, userId);
  }
}
