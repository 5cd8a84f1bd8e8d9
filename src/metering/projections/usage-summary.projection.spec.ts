import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { StoredEvent } from '../../../libs/event-store/port';
import { SqliteReadStore } from '../../../libs/read-store/sqlite/sqlite-read-store';
import type { MeteringEvent, UsageRecordedData } from '../contracts';
import { evolveSummary, summaryId, toPeriodUsage, USAGE_SUMMARIES, UsageSummaryDoc, UsageSummaryProjection } from './usage-summary.projection';
import { logLine } from './usage-log.projection';

const base: UsageRecordedData = {
  usage_id: 'r1',
  tenant_id: 't1',
  user_id: 'u1',
  provider: 'openai',
  model: 'gpt-4o',
  operation: 'chat',
  source: 'gateway',
  input_tokens: 100,
  output_tokens: 50,
  cache_read_tokens: 20,
  cache_write_tokens: 0,
  reasoning_tokens: 10,
  units: 0,
  cost: '0.1',
  price_version: 'v1',
  price_source: 'catalog',
  latency_ms: 80,
  status: 200,
  streamed: false,
  estimated: false,
  occurred_at: '2025-03-10T12:00:00.000Z',
  period_start: '2025-03-01T00:00:00.000Z',
  period_end: '2025-04-01T00:00:00.000Z',
  plan_id: 'basic',
};
const recorded = (over: Partial<UsageRecordedData>): MeteringEvent => ({ type: 'UsageRecorded', data: { ...base, ...over } });
const refused: MeteringEvent = {
  type: 'UsageRefused',
  data: {
    usage_id: 'x1', tenant_id: 't1', user_id: 'u1', provider: 'openai', model: 'gpt-4o', limit: 'openai_calls', limit_value: 3, used: 3, requested: 1,
    occurred_at: '2025-03-11T00:00:00.000Z', period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z', plan_id: 'basic', source: 'gateway',
  },
};
const fold = (events: MeteringEvent[]) => events.reduce<UsageSummaryDoc | null>((doc, e) => evolveSummary(doc, e), null)!;

describe('The usage summary of a period', () => {
  it('sums calls, tokens by kind, exact cost, errors and refusals, in total and per provider', () => {
    const doc = fold([
      ...Array.from({ length: 3 }, (_, i) => recorded({ usage_id: `a${i}` })),
      recorded({ usage_id: 'b', provider: 'tavily', model: 'search', input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, reasoning_tokens: 0, units: 2, cost: '0.002', latency_ms: 300 }),
      recorded({ usage_id: 'c', status: 500, cost: '0.0000001', latency_ms: null }),
      refused,
    ]);
    expect(toPeriodUsage(doc, doc.period_start, doc.period_end)).toEqual({
      period_start: '2025-03-01T00:00:00.000Z',
      period_end: '2025-04-01T00:00:00.000Z',
      total_calls: 5,
      total_tokens: 600,
      total_cost: '0.3020001',
      refused_calls: 1,
      errors: 1,
      providers: {
        openai: {
          calls: 4, input_tokens: 400, output_tokens: 200, cache_read_tokens: 80, cache_write_tokens: 0, reasoning_tokens: 40, units: 0, tokens: 600,
          cost: '0.3000001', errors: 1, refused: 1, latency_ms: { p50: 80, p95: 80, p99: 80 },
        },
        tavily: {
          calls: 1, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 2, tokens: 0,
          cost: '0.002', errors: 0, refused: 0, latency_ms: { p50: 300, p95: 300, p99: 300 },
        },
      },
    });
  });

  it('keeps ten $0.1 calls at exactly $1 (no binary floating point)', () => {
    const doc = fold(Array.from({ length: 10 }, (_, i) => recorded({ usage_id: `p${i}` })));
    expect(doc.total_cost).toBe('1');
  });

  it('reads as zeros when the user has no usage in the period', () => {
    expect(toPeriodUsage(null, '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z')).toEqual({
      period_start: '2025-03-01T00:00:00.000Z', period_end: '2025-04-01T00:00:00.000Z', total_calls: 0, total_tokens: 0, total_cost: '0', refused_calls: 0, errors: 0, providers: {},
    });
  });
});

describe('A usage log line', () => {
  it('holds counts, model, cost and timing of a call, never content', () => {
    expect(logLine(recorded({ status: 502 }))).toEqual(
      expect.objectContaining({ _id: 't1|g|r1', id: 'r1', kind: 'call', status: 502, outcome: 'error', cost: '0.1', input_tokens: 100, latency_ms: 80 }),
    );
    // A report with the same id is a line of its own.
    expect(logLine(recorded({ source: 'report' }))._id).toBe('t1|c|r1');
  });

  it('marks a refusal with the limit that refused it', () => {
    expect(logLine(refused)).toEqual(expect.objectContaining({ _id: 't1|r|x1', kind: 'refusal', status: 429, outcome: 'refused', limit: 'openai_calls', limit_value: 3, cost: '0' }));
  });
});

describe('The usage-summaries projection between batches', () => {
  let dir: string;
  let store: SqliteReadStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'summaries-'));
    store = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const stored = (position: bigint, over: Partial<UsageRecordedData>): StoredEvent => ({
    id: `e${position}`, streamId: `usage-${position}`, revision: 0n, position, type: 'UsageRecorded', data: { ...base, ...over }, metadata: { occurredAt: base.occurred_at },
  });
  /** One batch as the runner applies it: every event, the batch's end, and afterCommit once it committed. */
  const apply = async (p: UsageSummaryProjection, events: StoredEvent[], fail = false) => {
    await store.applyBatch(p.name, events[events.length - 1].position, async (batch) => {
      for (const e of events) await p.handle(e, batch);
      await p.endBatch(batch);
      if (fail) throw new Error('a later projection of the unit failed');
    });
    p.afterCommit(events);
  };

  it('given a batch that changed cached summaries and then failed, when the batch is applied again, then each call counts once', async () => {
    const p = new UsageSummaryProjection();
    await p.setup(store);
    await apply(p, [stored(1n, { usage_id: 'r1', cost: '0.1' })]);
    await expect(apply(p, [stored(2n, { usage_id: 'r2', cost: '0.2' })], true)).rejects.toThrow('failed');
    await apply(p, [stored(2n, { usage_id: 'r2', cost: '0.2' })]);
    const doc = await store.collection<UsageSummaryDoc>(USAGE_SUMMARIES).get(summaryId('t1', 'u1', base.period_start));
    expect([doc!.total_calls, doc!.total_cost]).toEqual([2, '0.3']);
  });
});
