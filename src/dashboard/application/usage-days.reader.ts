import { Inject, Injectable } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { UsageTotals } from '../../alerts';
import { DailyDoc, USAGE_DAILY } from '../projections/usage-daily.projection';
import { PeriodDoc, periodId, USAGE_PERIOD_TOTALS } from '../projections/usage-period.projection';

/** Reads the dashboard's read models: bounded by days asked for, never by the number of calls. */
@Injectable()
export class UsageDaysReader {
  constructor(@Inject(READ_STORE) private readonly reads: ReadStore) {}

  /** Daily totals by day key for days in [from, to] (inclusive); days without usage are absent. */
  async days(tenantId: string, userId: string, from: string, to: string): Promise<Record<string, UsageTotals>> {
    const out: Record<string, UsageTotals> = {};
    let cursor: string | undefined;
    do {
      const page = await this.reads
        .collection<DailyDoc>(USAGE_DAILY)
        .find({ tenant_id: tenantId, user_id: userId, day: { $gte: from, $lte: to } }, { sort: { field: 'day', direction: 'asc' }, limit: 1000, cursor });
      for (const d of page.items) out[d.day] = { calls: d.calls, tokens: d.tokens, units: d.units, cost: d.cost, providers: d.providers };
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  period(tenantId: string, userId: string, periodStart: string): Promise<PeriodDoc | null> {
    return this.reads.collection<PeriodDoc>(USAGE_PERIOD_TOTALS).get(periodId(tenantId, userId, periodStart));
  }
}
