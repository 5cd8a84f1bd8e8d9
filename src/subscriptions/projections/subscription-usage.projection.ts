import { Injectable } from '@nestjs/common';
import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { plusExact } from '../../../libs/money';
import { isoTime } from '../../../libs/clock';
import type { UsageRecordedData } from '../../metering';

export const SUBSCRIPTION_USAGE = 'subscription_usage';
export const SUBSCRIPTION_USAGE_DAILY = 'subscription_usage_daily';

export type PeriodUsageDoc = {
  _id: string;
  tenant_id: string;
  user_id: string;
  period_start: string;
  calls: number;
  tokens: number;
  cost: string;
  providers: Record<string, { calls: number; tokens: number; cost: string }>;
};

export type DailyUsageDoc = {
  _id: string;
  tenant_id: string;
  user_id: string;
  day: string;
  calls: number;
  tokens: number;
};

export const periodUsageId = (tenantId: string, userId: string, periodStart: string) => `${tenantId}/${userId}/${isoTime(periodStart)}`;
export const dailyUsageId = (tenantId: string, userId: string, day: string) => `${tenantId}/${userId}/${day}`;

/** Tokens of a call: the whole prompt plus the output (reasoning is part of output; cache tokens part of input). */
export const callTokens = (d: Pick<UsageRecordedData, 'input_tokens' | 'output_tokens'>) => (d.input_tokens ?? 0) + (d.output_tokens ?? 0);

/**
 * Subscriptions' own view of metering's published UsageRecorded events: totals per user and billing period (for
 * PeriodReset, billing records and the status) and tokens per UTC day (for the status' averages and trend).
 */
@Injectable()
export class SubscriptionUsageProjection implements Projection {
  readonly name = 'subscription_usage';
  readonly eventTypes = ['UsageRecorded'];
  readonly collections = [SUBSCRIPTION_USAGE, SUBSCRIPTION_USAGE_DAILY];

  async setup(store: ReadStore): Promise<void> {
    await store.collection(SUBSCRIPTION_USAGE_DAILY).ensureIndex(['tenant_id', 'user_id', 'day']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const d = event.data as UsageRecordedData;
    const tokens = callTokens(d);
    const periods = batch.collection<PeriodUsageDoc>(SUBSCRIPTION_USAGE);
    const id = periodUsageId(d.tenant_id, d.user_id, d.period_start);
    const doc = (await periods.get(id)) ?? {
      _id: id,
      tenant_id: d.tenant_id,
      user_id: d.user_id,
      period_start: isoTime(d.period_start),
      calls: 0,
      tokens: 0,
      cost: '0',
      providers: {},
    };
    const p = (doc.providers[d.provider] ??= { calls: 0, tokens: 0, cost: '0' });
    p.calls += 1;
    p.tokens += tokens;
    p.cost = plusExact(p.cost, d.cost || 0);
    doc.calls += 1;
    doc.tokens += tokens;
    doc.cost = plusExact(doc.cost, d.cost || 0);
    await periods.put(doc);
    const day = d.occurred_at.slice(0, 10);
    await batch.collection<DailyUsageDoc>(SUBSCRIPTION_USAGE_DAILY).upsert(dailyUsageId(d.tenant_id, d.user_id, day), {
      setOnInsert: { tenant_id: d.tenant_id, user_id: d.user_id, day },
      inc: { calls: 1, tokens },
    });
  }
}
