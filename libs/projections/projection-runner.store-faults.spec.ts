import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { StoredEvent } from '../event-store/port';
import { SqliteEventStore } from '../event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../read-store/sqlite/sqlite-read-store';
import { BatchUnit, Doc, markStoreFault, ProjectionBatch, ReadStore } from '../read-store/port';
import { Projection } from './projection';
import { ProjectionRunner } from './projection-runner';

/**
 * A read-store failure is not a projection's (review finding 18): an error the store raised inside a handler, or a
 * unit that failed at commit, fails no projection for good; the batch is tried again and lands once. A handler's own
 * error still takes that projection (and only it) out of the loop.
 */

/** Tokens per user; `boom` makes the handler itself throw on an event for that user. */
function totals(name: string, boom?: string): Projection {
  return {
    name,
    eventTypes: ['UsageRecorded'],
    collections: [name],
    async handle(e: StoredEvent, batch) {
      const d = e.data as { user_id: string; tokens: number };
      if (d.user_id === boom) throw new Error('handler bug');
      await batch.collection(name).upsert(d.user_id, { inc: { total: d.tokens, calls: 1 } });
    },
  };
}

/** The SQLite store with faults to inject: the next N units fail at "commit", the next M writes inside a unit fail. */
function faulty(inner: SqliteReadStore) {
  const faults = { commits: 0, writes: 0, checkpointReads: 0, seen: 0 };
  const store: ReadStore = {
    collection: (n) => inner.collection(n),
    drop: (n) => inner.drop(n),
    async getCheckpoint(p) {
      if (faults.checkpointReads > 0) {
        faults.checkpointReads--;
        faults.seen++;
        throw markStoreFault(new Error('server selection timed out'));
      }
      return inner.getCheckpoint(p);
    },
    resetCheckpoint: (p) => inner.resetCheckpoint(p),
    resetProjection: (p, c) => inner.resetProjection(p, c),
    ping: () => inner.ping(),
    close: () => inner.close(),
    applyBatch: (p, pos, apply, after) => inner.applyBatch(p, pos, apply, after),
    async applyBatches(units: BatchUnit[]) {
      const wrapped = units.map((u) => ({
        ...u,
        apply: async (batch: ProjectionBatch, cp: bigint) =>
          u.apply(
            {
              collection: <T extends Doc>(n: string) => {
                const c = batch.collection<T>(n);
                return {
                  ...c,
                  name: c.name,
                  upsert: async (id, update) => {
                    if (faults.writes > 0) {
                      faults.writes--;
                      faults.seen++;
                      throw markStoreFault(new Error('connection reset by the store'));
                    }
                    return c.upsert(id, update);
                  },
                } as typeof c;
              },
            },
            cp,
          ),
      }));
      const refused = await inner.applyBatches([
        ...wrapped,
        {
          // Runs last in the same unit: an error here rolls back every unit, as a failed commit does (not marked).
          projection: `commit_${randomUUID().slice(0, 8)}`,
          position: 1n,
          after: -1n,
          apply: async () => {
            if (faults.commits > 0) {
              faults.commits--;
              faults.seen++;
              throw new Error('commit failed: primary stepped down');
            }
          },
        },
      ]);
      return refused;
    },
  };
  return { store, faults };
}

describe('ProjectionRunner and read-store faults', () => {
  let dir: string;
  let events: SqliteEventStore;
  let inner: SqliteReadStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-faults-'));
    events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 10 });
    inner = new SqliteReadStore({ file: path.join(dir, 'read.db') });
  });
  afterEach(async () => {
    await events.close();
    await inner.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function record(user: string, tokens: number): Promise<void> {
    await events.append(`usage-${randomUUID()}`, [{ id: randomUUID(), type: 'UsageRecorded', data: { user_id: user, tokens }, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } }]);
  }

  it('a store error inside a handler and a failed commit are retried: every projection lands each event once and shows no error', async () => {
    const { store, faults } = faulty(inner);
    for (let i = 0; i < 6; i++) await record(`u${i % 2}`, 10);
    faults.writes = 2;
    faults.commits = 2;
    const runner = new ProjectionRunner(events, store, [totals('a_totals'), totals('b_totals')]);
    await runner.start();
    await runner.caughtUp();
    expect(faults).toMatchObject({ writes: 0, commits: 0, seen: 4 });
    for (const name of ['a_totals', 'b_totals']) {
      expect(await inner.collection(name).get('u0')).toEqual({ _id: 'u0', total: 30, calls: 3 });
      expect(await inner.collection(name).get('u1')).toEqual({ _id: 'u1', total: 30, calls: 3 });
    }
    expect((await runner.status()).map((s) => [s.name, s.running, s.error])).toEqual([
      ['a_totals', true, null],
      ['b_totals', true, null],
    ]);
    // And it goes on following the log.
    await record('u0', 5);
    await runner.caughtUp();
    expect(await inner.collection('b_totals').get('u0')).toEqual({ _id: 'u0', total: 35, calls: 4 });
    await runner.stop();
  });

  it('a projection whose checkpoint cannot be read when it rejoins the loop waits and rejoins, not failing', async () => {
    const { store, faults } = faulty(inner);
    for (let i = 0; i < 4; i++) await record('u0', 10);
    const runner = new ProjectionRunner(events, store, [totals('a_totals')]);
    await runner.start();
    await runner.caughtUp();
    // A rebuild on another instance resets it; our next batch is refused, and reading the checkpoint to rejoin fails once.
    await inner.resetProjection('a_totals', ['a_totals']);
    faults.checkpointReads = 1;
    await record('u0', 10);
    await runner.caughtUp();
    expect(faults.checkpointReads).toBe(0);
    expect(await inner.collection('a_totals').get('u0')).toEqual({ _id: 'u0', total: 50, calls: 5 });
    expect((await runner.status())[0]).toMatchObject({ name: 'a_totals', running: true, error: null });
    await runner.stop();
  });

  it("a handler's own error still fails that projection only", async () => {
    const { store } = faulty(inner);
    for (let i = 0; i < 4; i++) await record(i === 2 ? 'bad' : 'u0', 10);
    const runner = new ProjectionRunner(events, store, [totals('a_totals', 'bad'), totals('b_totals')]);
    await runner.start();
    await runner.caughtUp().catch(() => undefined); // whether caughtUp reports the failure depends on when it looks
    expect(await inner.collection('b_totals').get('u0')).toEqual({ _id: 'u0', total: 30, calls: 3 });
    expect(await inner.collection('a_totals').get('u0')).toBeNull();
    const status = await runner.status();
    expect(status.map((s) => [s.name, s.error])).toEqual([
      ['a_totals', 'handler bug'],
      ['b_totals', null],
    ]);
    await runner.stop();
  });
});
