import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { exactString } from '../../../libs/money';
import { SqliteEventStore } from '../../../libs/event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../../../libs/read-store/sqlite/sqlite-read-store';
import { ReadStore } from '../../../libs/read-store/port';
import { ProjectionRunner } from '../../../libs/projections';
import type { AppConfig } from '../../shell';
import type { UsageRecordedData, UsageRefusedData } from '../contracts';
import { usageStreamId } from '../contracts';
import { USAGE_SUMMARIES_PROJECTION, UsageSummaryProjection } from '../projections/usage-summary.projection';
import { UsageLedger } from './usage-ledger';

/**
 * The ledger seeded from usage_summaries at a checkpoint C and then following the log after C holds exactly what the
 * ledger folding the whole log from the first event holds: for any log of recorded and refused calls (tenants, users,
 * periods, providers, exact costs, ids reported twice), with seeds taken at several checkpoints while the log grows,
 * and with this process's own records counted locally before the subscription delivers them.
 */
const server = { role: 'server' } as AppConfig;
// The ledger logs how it started (test/e2e/ledger-seed.e2e.ts reads that line): quiet here.
if (!process.env.LOG_LEVEL) process.env.LOG_LEVEL = 'silent';
// Two spellings of one period start: the ledger and the summaries normalise them alike.
const PERIODS = [
  { start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' },
  { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' },
  { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
];

type Op =
  | { kind: 'recorded'; tenant: string; user: string; period: number; provider: string; input: number; output: number; cost: string; local: boolean }
  | { kind: 'refused'; tenant: string; user: string; period: number; provider: string }
  | { kind: 'again'; of: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('recorded' as const),
      tenant: fc.constantFrom('t1', 't2'),
      user: fc.constantFrom('ann', 'bob', 'cid'),
      period: fc.nat({ max: PERIODS.length - 1 }),
      provider: fc.constantFrom('openai', 'anthropic', 'tavily'),
      input: fc.nat({ max: 5000 }),
      output: fc.nat({ max: 2000 }),
      // Exact decimals down to 1e-10 USD: float sums would drift, Money must not.
      cost: fc.nat({ max: 10_000_000 }).map((n) => exactString(`${n}e-10`)),
      local: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('refused' as const),
      tenant: fc.constantFrom('t1', 't2'),
      user: fc.constantFrom('ann', 'bob', 'cid'),
      period: fc.nat({ max: PERIODS.length - 1 }),
      provider: fc.constantFrom('openai', 'anthropic', 'tavily', 'serper'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('again' as const), of: fc.nat({ max: 200 }) }) },
);

/** What recorded and refused calls share: who, which provider, when, in which period. */
function common(o: { tenant: string; user: string; period: number; provider: string }, usageId: string) {
  const p = PERIODS[o.period];
  const at = '2025-03-10T12:00:00.000Z';
  return { usage_id: usageId, tenant_id: o.tenant, user_id: o.user, provider: o.provider, model: 'm', occurred_at: at, period_start: p.start, period_end: p.end, plan_id: 'pro' };
}

function recorded(o: Extract<Op, { kind: 'recorded' }>, i: number): UsageRecordedData {
  return {
    ...common(o, `u${i}`),
    operation: 'chat',
    source: 'report',
    cost: o.cost,
    price_version: 'v1',
    price_source: 'catalog',
    latency_ms: 10,
    status: 200,
    streamed: false,
    estimated: false,
    input_tokens: o.input,
    output_tokens: o.output,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: Math.min(o.output, 3),
    units: 0,
  };
}

function refused(o: Extract<Op, { kind: 'refused' }>, i: number): UsageRefusedData {
  return { ...common(o, `r${i}`), limit: 'total_calls', limit_value: 1, used: 1, requested: 1, source: 'gateway' };
}

/** The ledger's counted state with Money as exact strings. */
function counted(l: UsageLedger): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, t] of l.countedPeriods()) {
    out[key] = {
      total: { ...t.total, cost: exactString(t.total.cost) },
      providers: Object.fromEntries(Object.entries(t.providers).map(([p, c]) => [p, { ...c, cost: exactString(c.cost) }])),
    };
  }
  return out;
}

describe('UsageLedger seeded from usage_summaries', () => {
  let dir: string;
  let events: SqliteEventStore;
  let reads: SqliteReadStore;
  const ledgers: UsageLedger[] = [];
  let runner: ProjectionRunner | null = null;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-ledger-seed-'));
    events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 5 });
    reads = new SqliteReadStore({ file: path.join(dir, 'read-models.db'), sync: 'normal' });
  });
  afterEach(async () => {
    for (const l of ledgers.splice(0)) await l.onModuleDestroy();
    await runner?.stop();
    runner = null;
    await events.close();
    await reads.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function boot(store?: ReadStore): Promise<UsageLedger> {
    const l = new UsageLedger(events, server, store);
    ledgers.push(l);
    await l.onApplicationBootstrap();
    return l;
  }

  /** Appends one op's event (an `again` appends an earlier event's id once more: the store keeps one). */
  async function append(op: Op, i: number, log: Array<{ stream: string; event: { id: string; type: string; data: unknown } }>) {
    let entry: (typeof log)[number];
    if (op.kind === 'again') {
      if (!log.length) return null;
      entry = log[op.of % log.length];
    } else {
      const data = op.kind === 'recorded' ? recorded(op, i) : refused(op, i);
      entry = {
        stream: usageStreamId(data.tenant_id, data.usage_id, 'report'),
        event: { id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, type: op.kind === 'recorded' ? 'UsageRecorded' : 'UsageRefused', data },
      };
      log.push(entry);
    }
    const r = await events.append(entry.stream, [{ ...entry.event, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } }]);
    return { ...r, entry };
  }

  it('equals the ledger folded from the first event, for seeds taken at several checkpoints', async () => {
    // At each cut the summaries catch up with the log; `lag` appends later a ledger boots from them (the summaries are
    // then behind the log: the ledger follows the rest).
    const cutsArb = fc.uniqueArray(fc.record({ at: fc.nat({ max: 59 }), lag: fc.nat({ max: 8 }) }), { minLength: 1, maxLength: 3, selector: (c) => c.at });
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), cutsArb, async (ops, cuts) => {
        // A fresh log and read model per run.
        for (const l of ledgers.splice(0)) await l.onModuleDestroy();
        await runner?.stop();
        await events.close();
        await reads.close();
        fs.rmSync(dir, { recursive: true, force: true });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-ledger-seed-'));
        events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 5 });
        reads = new SqliteReadStore({ file: path.join(dir, 'read-models.db'), sync: 'normal' });

        const log: Array<{ stream: string; event: { id: string; type: string; data: unknown } }> = [];
        const seeded: Array<{ ledger: UsageLedger; checkpoint: bigint }> = [];
        // Steps at which a ledger boots; the summaries stand where the last cut left them (no projection runs meanwhile).
        const due: number[] = [];
        const seed = async () => {
          const checkpoint = await reads.getCheckpoint(USAGE_SUMMARIES_PROJECTION);
          const after = (await events.readAll({ after: checkpoint, types: ['UsageRecorded'], maxCount: 1000 })).length;
          const ledger = await boot(reads);
          // An empty log has never been projected: the summaries have no checkpoint, and the ledger folds (nothing).
          if (checkpoint < 0n) expect(ledger.boot).toMatchObject({ from: 'log', checkpoint, followedEvents: after });
          else expect(ledger.boot).toMatchObject({ from: 'usage-summaries', checkpoint, followedEvents: after });
          // A redelivery of an event the seed already holds counts nothing.
          const before = counted(ledger);
          for (const e of await events.readAll({ after: -1n, types: ['UsageRecorded'], maxCount: 1000 }))
            if (e.position <= checkpoint) ledger.countLocal(e.id, e.position, e.data as UsageRecordedData);
          expect(counted(ledger)).toEqual(before);
          seeded.push({ ledger, checkpoint });
        };
        for (let i = 0; i < ops.length; i++) {
          const r = await append(ops[i], i, log);
          // This process's own record: counted at once, then delivered by the subscription too (counted once).
          const op = ops[i];
          if (r && !r.duplicate && op.kind === 'recorded' && op.local)
            for (const s of seeded) s.ledger.countLocal(r.entry.event.id, r.position, r.entry.event.data as UsageRecordedData);
          // Seeds due now boot before this step's cut moves the summaries on.
          for (const at of due) if (at === i) await seed();
          const cut = cuts.find((c) => c.at === i);
          if (cut) {
            runner = new ProjectionRunner(events, reads, [new UsageSummaryProjection()], { batchSize: 7 });
            await runner.start();
            await runner.caughtUp();
            await runner.stop();
            runner = null;
            if (cut.lag === 0) await seed();
            else due.push(i + cut.lag);
          }
        }
        for (const at of due) if (at >= ops.length) await seed();
        const folded = await boot();
        expect(folded.boot).toMatchObject({ from: 'log', checkpoint: -1n });
        for (const s of seeded) {
          await s.ledger.caughtUp();
          expect(counted(s.ledger)).toEqual(counted(folded));
        }
        // Seeded at the checkpoint the summaries reach after the whole log.
        runner = new ProjectionRunner(events, reads, [new UsageSummaryProjection()], { batchSize: 7 });
        await runner.start();
        await runner.caughtUp();
        const late = await boot(reads);
        expect(late.boot!.seededPeriods).toBe(Object.keys(counted(folded)).length);
        expect(late.boot!.followedEvents).toBe(0);
        expect(counted(late)).toEqual(counted(folded));
      }),
      { numRuns: 12 },
    );
  });

  it('folds from the first event when the summaries were never projected, and says why', async () => {
    await append({ kind: 'recorded', tenant: 't1', user: 'ann', period: 0, provider: 'openai', input: 10, output: 5, cost: '0.25', local: false }, 1, []);
    const ledger = await boot(reads);
    expect(ledger.boot).toMatchObject({ from: 'log', checkpoint: -1n, followedEvents: 1, reason: expect.stringContaining('not projected') });
    expect(counted(ledger)).toEqual({ 't1|ann|2025-03-01T00:00:00.000Z': { total: { calls: 1, tokens: 15, cost: '0.25' }, providers: { openai: { calls: 1, tokens: 15, cost: '0.25' } } } });
  });

  it('folds from the first event when reading the summaries fails, keeping nothing of a partial read', async () => {
    const log: Array<{ stream: string; event: { id: string; type: string; data: unknown } }> = [];
    for (let i = 0; i < 4; i++) await append({ kind: 'recorded', tenant: 't1', user: i % 2 ? 'ann' : 'bob', period: 1, provider: 'openai', input: 1, output: 1, cost: '0.1', local: false }, i, log);
    runner = new ProjectionRunner(events, reads, [new UsageSummaryProjection()]);
    await runner.start();
    await runner.caughtUp();
    const failing: ReadStore = Object.assign(Object.create(reads) as ReadStore, {
      async readSnapshot(projection: string, collection: string, each: (doc: any) => void): Promise<bigint> {
        let n = 0;
        await reads.readSnapshot(projection, collection, (doc) => {
          if (n++ === 1) throw new Error('disk I/O error');
          each(doc);
        });
        return 0n;
      },
    });
    const ledger = await boot(failing);
    expect(ledger.boot).toMatchObject({ from: 'log', checkpoint: -1n, followedEvents: 4, reason: 'reading usage_summaries failed: disk I/O error' });
    expect(counted(ledger)).toEqual({
      't1|ann|2025-04-01T00:00:00.000Z': { total: { calls: 2, tokens: 4, cost: '0.2' }, providers: { openai: { calls: 2, tokens: 4, cost: '0.2' } } },
      't1|bob|2025-04-01T00:00:00.000Z': { total: { calls: 2, tokens: 4, cost: '0.2' }, providers: { openai: { calls: 2, tokens: 4, cost: '0.2' } } },
    });
  });

  it('names the projection whose checkpoint it reads', () => {
    expect(new UsageSummaryProjection().name).toBe(USAGE_SUMMARIES_PROJECTION);
  });
});
