import { StoredEvent } from '../../../libs/event-store/port';
import { plusExact } from '../../../libs/money';
import { isoTime } from '../../../libs/clock';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import type { MeteringEvent, UsageRecordedData, UsageRefusedData } from '../contracts';
import { bucketOf, fromSparse, keepSample, latencyPercentiles, SparseHistogram } from '../domain/latency-histogram';
import { countedTokens, ProviderCounts } from '../domain/usage-totals';
import type { PeriodUsage, ProviderPeriodUsage } from '../application/admission';

export const USAGE_SUMMARIES = 'usage_summaries';
/** The projection's name: its checkpoint says what the usage_summaries documents hold. */
export const USAGE_SUMMARIES_PROJECTION = 'usage-summaries';

export interface ProviderSummary extends ProviderCounts {
  /** Calls per latency bucket ({bucket index: calls}, buckets of LATENCY_BUCKETS_MS), calls without a latency left out. */
  latency_histogram: SparseHistogram;
  latency_sum_ms: number;
  latency_count: number;
  /** The latencies themselves, sorted, while latency_count is at most EXACT_LATENCY_SAMPLES (exact percentiles). */
  latency_samples?: number[];
  /** The smallest and largest latency (absent in summaries projected before they were kept). */
  latency_min_ms?: number;
  latency_max_ms?: number;
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


export const summaryId = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${isoTime(periodStart)}`;

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
  latency_histogram: {},
  latency_sum_ms: 0,
  latency_count: 0,
});

/** Folds one more event into a summary, in place (the batch's own object), or into a new one for null; returns it. */
export function evolveSummary(doc: UsageSummaryDoc | null, event: MeteringEvent): UsageSummaryDoc {
  const d = event.data;
  const s: UsageSummaryDoc = doc ?? {
    _id: summaryId(d.tenant_id, d.user_id, d.period_start),
    tenant_id: d.tenant_id,
    user_id: d.user_id,
    period_start: isoTime(d.period_start),
    period_end: isoTime(d.period_end),
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
      s.total_cost = plusExact(s.total_cost, u.cost);
      p.calls += 1;
      p.input_tokens += u.input_tokens;
      p.output_tokens += u.output_tokens;
      p.cache_read_tokens += u.cache_read_tokens;
      p.cache_write_tokens += u.cache_write_tokens;
      p.reasoning_tokens += u.reasoning_tokens;
      p.units += u.units;
      p.tokens += tokens;
      p.cost = plusExact(p.cost, u.cost);
      if (u.status >= 400) {
        s.errors += 1;
        p.errors += 1;
      }
      if (typeof u.latency_ms === 'number') {
        const b = bucketOf(u.latency_ms);
        p.latency_histogram[b] = (p.latency_histogram[b] ?? 0) + 1;
        p.latency_sum_ms += u.latency_ms;
        p.latency_count += 1;
        const kept = keepSample(p.latency_samples, p.latency_count, u.latency_ms);
        if (kept) p.latency_samples = kept;
        else delete p.latency_samples;
        if (p.latency_count === 1 || (p.latency_min_ms !== undefined && u.latency_ms < p.latency_min_ms)) p.latency_min_ms = u.latency_ms;
        if (p.latency_count === 1 || (p.latency_max_ms !== undefined && u.latency_ms > p.latency_max_ms)) p.latency_max_ms = u.latency_ms;
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
      latency_ms: latencyPercentiles(fromSparse(p.latency_histogram), p.latency_samples, p.latency_count, { min: p.latency_min_ms, max: p.latency_max_ms }),
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

/** Summaries kept in memory between batches (the most recently touched ones). */
const CACHE_LIMIT = 50_000;

/**
 * usage_summaries: per user and billing period, totals and per provider (calls, tokens by kind, exact cost, errors,
 * refusals, a latency histogram for p50/p95/p99).
 *
 * A batch folds its events into the summaries it touches and writes each once, at the end of the batch (in the same
 * unit as the checkpoint). Committed summaries stay in memory for the next batch, which changes them in place, but
 * only while the stored checkpoint is the one this instance committed: when another instance (or a rebuild) moved it,
 * or a batch failed after changing them, the cache is dropped and summaries are read from the store again.
 */
export class UsageSummaryProjection implements Projection {
  readonly name = USAGE_SUMMARIES_PROJECTION;
  /** The summary cache follows only batches this instance applied: another thread has nothing to learn. */
  readonly afterCommitReads = false as const;
  readonly eventTypes = ['UsageRecorded', 'UsageRefused'] as const;
  readonly collections = [USAGE_SUMMARIES] as const;
  private store: ReadStore | null = null;
  private readonly cache = new Map<string, UsageSummaryDoc>();
  /** The checkpoint the cache is current with. */
  private cachedAt: bigint | null = null;
  private pending: { batch: ProjectionBatch; docs: Map<string, UsageSummaryDoc>; last: bigint } | null = null;

  async setup(store: ReadStore): Promise<void> {
    this.store = store;
    this.cache.clear();
    this.cachedAt = null;
    this.pending = null;
    await store.collection(USAGE_SUMMARIES).ensureIndex(['tenant_id', 'user_id', 'period_start']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    if (this.pending?.batch !== batch) {
      const checkpoint = this.store ? await this.store.getCheckpoint(this.name) : null;
      // A batch that never reached afterCommit (it failed, or its unit was refused) may have changed cached summaries.
      if (this.pending || checkpoint === null || checkpoint !== this.cachedAt) this.cache.clear();
      this.pending = { batch, docs: new Map(), last: -1n };
    }
    const e = { type: event.type, data: event.data } as MeteringEvent;
    const id = summaryId(e.data.tenant_id, e.data.user_id, e.data.period_start);
    const docs = this.pending.docs;
    let doc = docs.get(id) ?? null;
    if (!doc) doc = this.cache.get(id) ?? (await batch.collection<UsageSummaryDoc>(USAGE_SUMMARIES).get(id));
    docs.set(id, evolveSummary(doc, e));
    this.pending.last = event.position;
  }

  async endBatch(batch: ProjectionBatch): Promise<void> {
    if (this.pending?.batch !== batch) return;
    const coll = batch.collection<UsageSummaryDoc>(USAGE_SUMMARIES);
    for (const doc of this.pending.docs.values()) await coll.put(doc);
  }

  afterCommit(events: StoredEvent[]): void {
    const p = this.pending;
    this.pending = null;
    if (!p || !events.length || events[events.length - 1].position !== p.last) {
      this.cache.clear();
      this.cachedAt = null;
      return;
    }
    for (const [id, doc] of p.docs) {
      this.cache.delete(id);
      this.cache.set(id, doc);
    }
    for (const id of this.cache.keys()) {
      if (this.cache.size <= CACHE_LIMIT) break;
      this.cache.delete(id);
    }
    this.cachedAt = p.last;
  }
}
