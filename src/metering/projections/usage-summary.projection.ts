import { StoredEvent } from '../../../libs/event-store/port';
import { exactString, Money } from '../../../libs/money';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import type { MeteringEvent, UsageRecordedData, UsageRefusedData } from '../contracts';
import { bucketOf, emptyHistogram, latencyPercentiles } from '../domain/latency-histogram';
import { countedTokens } from '../domain/usage-totals';
import type { PeriodUsage, ProviderPeriodUsage } from '../application/admission';

export const USAGE_SUMMARIES = 'usage_summaries';

export interface ProviderSummary {
  calls: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  units: number;
  tokens: number;
  /** Exact decimal string. */
  cost: string;
  errors: number;
  refused: number;
  /** Calls per latency bucket (LATENCY_BUCKETS_MS), calls without a latency left out. */
  latency_histogram: number[];
  latency_sum_ms: number;
  latency_count: number;
}

/** One user's usage in one billing period. */
export interface UsageSummaryDoc {
  _id: string;
  [key: string]: unknown;
  tenant_id: string;
  user_id: string;
  period_start: string;
  period_end: string;
  plan_id: string;
  total_calls: number;
  total_tokens: number;
  total_cost: string;
  refused_calls: number;
  errors: number;
  providers: Record<string, ProviderSummary>;
  first_at: string;
  last_at: string;
}

export const summaryId = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${new Date(periodStart).toISOString()}`;

const emptyProvider = (): ProviderSummary => ({
  calls: 0,
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  reasoning_tokens: 0,
  units: 0,
  tokens: 0,
  cost: '0',
  errors: 0,
  refused: 0,
  latency_histogram: emptyHistogram(),
  latency_sum_ms: 0,
  latency_count: 0,
});

/** Pure: a summary with one more event folded in. */
export function evolveSummary(doc: UsageSummaryDoc | null, event: MeteringEvent): UsageSummaryDoc {
  const d = event.data;
  const s: UsageSummaryDoc = doc ?? {
    _id: summaryId(d.tenant_id, d.user_id, d.period_start),
    tenant_id: d.tenant_id,
    user_id: d.user_id,
    period_start: new Date(d.period_start).toISOString(),
    period_end: new Date(d.period_end).toISOString(),
    plan_id: d.plan_id,
    total_calls: 0,
    total_tokens: 0,
    total_cost: '0',
    refused_calls: 0,
    errors: 0,
    providers: {},
    first_at: d.occurred_at,
    last_at: d.occurred_at,
  };
  const p = (s.providers[d.provider] ??= emptyProvider());
  if (d.occurred_at < s.first_at) s.first_at = d.occurred_at;
  if (d.occurred_at > s.last_at) s.last_at = d.occurred_at;
  switch (event.type) {
    case 'UsageRecorded': {
      const u: UsageRecordedData = event.data;
      const tokens = countedTokens(u);
      s.plan_id = u.plan_id;
      s.total_calls += 1;
      s.total_tokens += tokens;
      s.total_cost = exactString(new Money(s.total_cost).plus(u.cost));
      p.calls += 1;
      p.input_tokens += u.input_tokens;
      p.output_tokens += u.output_tokens;
      p.cache_read_tokens += u.cache_read_tokens;
      p.cache_write_tokens += u.cache_write_tokens;
      p.reasoning_tokens += u.reasoning_tokens;
      p.units += u.units;
      p.tokens += tokens;
      p.cost = exactString(new Money(p.cost).plus(u.cost));
      if (u.status >= 400) {
        s.errors += 1;
        p.errors += 1;
      }
      if (typeof u.latency_ms === 'number') {
        p.latency_histogram[bucketOf(u.latency_ms)] += 1;
        p.latency_sum_ms += u.latency_ms;
        p.latency_count += 1;
      }
      break;
    }
    case 'UsageRefused': {
      const r: UsageRefusedData = event.data;
      void r;
      s.refused_calls += 1;
      p.refused += 1;
      break;
    }
    default: {
      const never: never = event;
      throw new Error(`Unhandled event ${(never as { type: string }).type}`);
    }
  }
  return s;
}

/** The facade's view of a summary (zeros when the user has no usage in the period). */
export function toPeriodUsage(doc: UsageSummaryDoc | null, periodStart: string, periodEnd: string): PeriodUsage {
  const providers: Record<string, ProviderPeriodUsage> = {};
  for (const [name, p] of Object.entries(doc?.providers ?? {})) {
    providers[name] = {
      calls: p.calls,
      input_tokens: p.input_tokens,
      output_tokens: p.output_tokens,
      cache_read_tokens: p.cache_read_tokens,
      cache_write_tokens: p.cache_write_tokens,
      reasoning_tokens: p.reasoning_tokens,
      units: p.units,
      tokens: p.tokens,
      cost: p.cost,
      errors: p.errors,
      refused: p.refused,
      latency_ms: latencyPercentiles(p.latency_histogram),
    };
  }
  return {
    period_start: new Date(periodStart).toISOString(),
    period_end: new Date(periodEnd).toISOString(),
    total_calls: doc?.total_calls ?? 0,
    total_tokens: doc?.total_tokens ?? 0,
    total_cost: doc?.total_cost ?? '0',
    refused_calls: doc?.refused_calls ?? 0,
    errors: doc?.errors ?? 0,
    providers,
  };
}

/**
 * usage_summaries: per user and billing period, totals and per provider (calls, tokens by kind, exact cost, errors,
 * refusals, a latency histogram for p50/p95/p99). Within a batch a summary is read once and kept in memory.
 */
export class UsageSummaryProjection implements Projection {
  readonly name = 'usage-summaries';
  readonly eventTypes = ['UsageRecorded', 'UsageRefused'] as const;
  readonly collections = [USAGE_SUMMARIES] as const;
  private readonly open = new WeakMap<ProjectionBatch, Map<string, UsageSummaryDoc>>();

  async setup(store: ReadStore): Promise<void> {
    await store.collection(USAGE_SUMMARIES).ensureIndex(['tenant_id', 'user_id', 'period_start']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const e = { type: event.type, data: event.data } as MeteringEvent;
    const id = summaryId(e.data.tenant_id, e.data.user_id, e.data.period_start);
    let docs = this.open.get(batch);
    if (!docs) this.open.set(batch, (docs = new Map()));
    const coll = batch.collection<UsageSummaryDoc>(USAGE_SUMMARIES);
    const before = docs.get(id) ?? (await coll.get(id));
    const after = evolveSummary(before, e);
    docs.set(id, after);
    await coll.put(after);
  }
}
