import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { addUsage, emptyTotals, UsageTotals } from '../../alerts';
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
  readonly eventTypes = ['UsageRecorded'] as const;
  readonly collections = [USAGE_DAILY] as const;
  private readonly versions = new Map<string, number>();
  private generation = 0;

  async setup(store: ReadStore): Promise<void> {
    this.generation++;
    await store.collection(USAGE_DAILY).ensureIndex(['tenant_id', 'user_id', 'day']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as UsageRecordedData;
    const day = dayKey(d.occurred_at);
    const id = dailyId(d.tenant_id, d.user_id, day);
    const days = batch.collection<DailyDoc>(USAGE_DAILY);
    const doc = await days.get(id);
    const totals = addUsage(doc ?? emptyTotals(), { provider: d.provider, tokens: (d.input_tokens ?? 0) + (d.output_tokens ?? 0), units: d.units ?? 0, cost: d.cost ?? '0' });
    await days.put({ _id: id, tenant_id: d.tenant_id, user_id: d.user_id, day, ...totals });
  }

  afterCommit(events: StoredEvent[]): void {
    for (const e of events) {
      const k = `${(e.data as UsageRecordedData).tenant_id}|${(e.data as UsageRecordedData).user_id}`;
      this.versions.set(k, (this.versions.get(k) ?? 0) + 1);
    }
  }

  versionOf(tenantId: string, userId: string): string {
    return `${this.generation}.${this.versions.get(`${tenantId}|${userId}`) ?? 0}`;
  }
}
