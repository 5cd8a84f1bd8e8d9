import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { EventStore, StoredEvent } from '../event-store/port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../read-store/sqlite/sqlite-read-store';
import { ReadStore } from '../read-store/port';
import { Projection } from './projection';
import { ProjectionRunner } from './projection-runner';

/**
 * Two instances project into one read store (as two processes on one data dir do) while one of them rebuilds: the
 * other's batches must not land on a half-rebuilt read model (checkpoint continuity), and at the end the read model
 * equals a rebuild.
 */

const NAME = 'user_totals';
const COLLECTION = 'user_totals';

/** Tokens per user from UsageRecorded; `hooks` lets a test hold a rebuild at a chosen step. */
function userTotals(hooks: { setup?: () => Promise<void> } = {}): Projection {
  return {
    name: NAME,
    eventTypes: ['UsageRecorded'],
    collections: [COLLECTION],
    async setup() {
      await hooks.setup?.();
    },
    async handle(e: StoredEvent, batch) {
      const d = e.data as { user_id: string; tokens: number };
      await batch.collection(COLLECTION).upsert(d.user_id, { inc: { total: d.tokens, calls: 1 } });
    },
  };
}

/** The event store as one instance sees it, with a gate that can hold its next log read (a rebuild between windows). */
function gatedEvents(inner: EventStore): EventStore & { holdReadAfter(position: bigint): { reached: Promise<void>; release: () => void } } {
  let hold: { after: bigint; reached: () => void; gate: Promise<void> } | null = null;
  return {
    append: (s, e, r) => inner.append(s, e, r),
    readStream: (s, o) => inner.readStream(s, o),
    subscribeToAll: (h, o) => inner.subscribeToAll(h, o),
    headPosition: () => inner.headPosition(),
    ping: () => inner.ping(),
    close: () => inner.close(),
    async readAll(o) {
      const h = hold;
      if (h && o?.after === h.after) {
        hold = null;
        h.reached();
        await h.gate;
      }
      return inner.readAll(o);
    },
    holdReadAfter(after: bigint) {
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const reachedP = new Promise<void>((r) => (reached = r));
      hold = { after, reached, gate };
      return { reached: reachedP, release };
    },
  } as EventStore & { holdReadAfter(position: bigint): { reached: Promise<void>; release: () => void } };
}

describe('ProjectionRunner: two instances on one store, a rebuild on one of them', () => {
  let dir: string;
  let events: SqliteEventStore;
  let reads: SqliteReadStore;
  const runners: ProjectionRunner[] = [];
  /** Every UsageRecorded appended: the expected totals. */
  const expected: Record<string, number> = {};

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-continuity-'));
    events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 10 });
    reads = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
    for (const k of Object.keys(expected)) delete expected[k];
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop();
    await reads.close();
    await events.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function record(n: number, from = 0): Promise<void> {
    for (let i = from; i < from + n; i += 50) {
      const user = `u${(i / 50) % 7}`;
      const batch = Array.from({ length: Math.min(50, from + n - i) }, (_, k) => ({
        id: randomUUID(),
        type: k % 5 === 4 ? 'SomethingElse' : 'UsageRecorded',
        data: { user_id: user, tokens: i + k },
        metadata: { occurredAt: '2025-03-10T12:00:00.000Z' },
      }));
      for (const e of batch) if (e.type === 'UsageRecorded') expected[user] = (expected[user] ?? 0) + e.data.tokens;
      await events.append(`usage-${randomUUID()}`, batch);
    }
  }

  function runner(eventStore: EventStore, projection: Projection, batchSize = 100): ProjectionRunner {
    const r = new ProjectionRunner(eventStore, reads, [projection], { batchSize, minBatchIntervalMs: 0 });
    runners.push(r);
    return r;
  }

  async function totals(store: ReadStore): Promise<Record<string, number>> {
    const page = await store.collection(COLLECTION).find({}, { limit: 1000 });
    return Object.fromEntries(page.items.map((d) => [d._id, d.total as number]));
  }

  /** The read model a rebuild from the log makes, in a store of its own. */
  async function rebuiltElsewhere(): Promise<Record<string, number>> {
    const fresh = new SqliteReadStore({ file: path.join(dir, 'rebuilt.db') });
    try {
      await new ProjectionRunner(events, fresh, [userTotals()]).rebuild(NAME);
      return await totals(fresh);
    } finally {
      await fresh.close();
    }
  }

  async function bothCaughtUp(a: { caughtUp(): Promise<void> }, b: { caughtUp(): Promise<void> }): Promise<void> {
    await a.caughtUp();
    await b.caughtUp();
  }

  /** The read model holds every event once: the totals recorded, what a rebuild elsewhere makes, the last checkpoint. */
  async function expectEveryEventOnce(): Promise<void> {
    expect(await totals(reads)).toEqual(expected);
    expect(await totals(reads)).toEqual(await rebuiltElsewhere());
    expect(await reads.getCheckpoint(NAME)).toBe(await lastUsagePosition());
  }

  async function lastUsagePosition(): Promise<bigint> {
    const all = await events.readAll({ after: -1n, maxCount: 100_000, types: ['UsageRecorded'] });
    return all[all.length - 1].position;
  }

  it('a batch the other instance applies after the rebuild reset the checkpoint is refused, and nothing is lost', async () => {
    // Given two instances that have projected 1,000 events into one read store
    await record(1000);
    let holdSetup: { reached: () => void; gate: Promise<void> } | null = null;
    const a = runner(events, userTotals({ setup: async () => { const h = holdSetup; if (h) { holdSetup = null; h.reached(); await h.gate; } } }));
    const b = runner(events, userTotals());
    await a.start();
    await b.start();
    await bothCaughtUp(a, b);
    expect(await totals(reads)).toEqual(expected);

    // When A's rebuild has reset the checkpoint and emptied the read model, and B sees new events before A replays
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (holdSetup = { reached: resolve, gate: new Promise<void>((r) => (release = r)) }));
    const rebuilding = a.rebuild(NAME);
    await reached;
    expect(await reads.getCheckpoint(NAME)).toBe(-1n);
    await record(200, 1000);
    await b.caughtUp();
    release();
    await rebuilding;
    await bothCaughtUp(a, b);

    // Then the read model holds every event once: what a rebuild makes, and the checkpoint is the last event's
    await expectEveryEventOnce();
    expect((await b.status())[0]).toMatchObject({ name: NAME, lag: 0, running: true, error: null });

    // And both instances go on projecting new events once
    await record(100, 1200);
    await bothCaughtUp(a, b);
    expect(await totals(reads)).toEqual(expected);
  });

  it('a batch of the other instance between two windows of the rebuild does not make the rebuild skip events', async () => {
    // Given 2,500 events (a rebuild replays them in windows of 2,000) projected by both instances
    await record(2500);
    const gated = gatedEvents(events);
    const a = runner(gated, userTotals());
    const b = runner(events, userTotals(), 300);
    await a.start();
    await b.start();
    await bothCaughtUp(a, b);

    // When A's rebuild has replayed its first window and B applies new events before A reads the second one
    const firstWindowEnd = (await events.readAll({ after: -1n, maxCount: 2000 }))[1999].position;
    const held = gated.holdReadAfter(firstWindowEnd);
    const rebuilding = a.rebuild(NAME);
    await held.reached;
    const midway = await reads.getCheckpoint(NAME);
    expect(midway).toBeGreaterThan(-1n);
    expect(midway).toBeLessThanOrEqual(firstWindowEnd);
    await record(150, 2500);
    await b.caughtUp();
    held.release();
    await rebuilding;
    await bothCaughtUp(a, b);

    // Then nothing between the rebuild's checkpoint and B's batch is missing: the read model equals a rebuild
    await expectEveryEventOnce();
  });

  it('two instances rebuilding at once end with every event once', async () => {
    // Given two instances following 3,000 events, new events arriving all along
    await record(3000);
    const a = runner(events, userTotals());
    const b = runner(events, userTotals(), 250);
    await a.start();
    await b.start();
    let more = 3000;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await record(50, more);
        more += 50;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    // When both rebuild the projection at the same time
    await Promise.all([a.rebuild(NAME), b.rebuild(NAME)]);
    writing = false;
    await writer;
    await bothCaughtUp(a, b);

    // Then the read model equals a rebuild
    expect(await totals(reads)).toEqual(expected);
    expect(await totals(reads)).toEqual(await rebuiltElsewhere());
  });
});
