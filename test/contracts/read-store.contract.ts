import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { Doc, ProjectionBatch, ReadStore } from '../../libs/read-store/port';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { ProjectionRunner } from '../../libs/projections';
import { userTotalsProjection } from './user-totals.projection';

/** How a contract run gets its adapter: a fresh store, and the same store opened again (a restart). */
export interface ReadStoreHarness {
  open(): Promise<ReadStore>;
  reopen(store: ReadStore): Promise<ReadStore>;
  cleanup?(): Promise<void>;
}

/** A collection name no other test (or earlier run against a shared server) uses. */
function fresh(prefix = 'c'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

interface Row extends Doc {
  user: string;
  n: number;
  at: string;
  tag?: string | null;
  nested?: { score: number };
}

/** The ReadStore port's contract (and the projection runner over it). Every adapter must pass it unchanged. */
export function readStoreContract(adapter: string, harness: ReadStoreHarness): void {
  describe(`ReadStore contract: ${adapter}`, () => {
    let store: ReadStore;

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await harness.cleanup?.();
    });

    async function seed(name: string): Promise<Row[]> {
      const rows: Row[] = [
        { _id: 'r01', user: 'ann', n: 5, at: '2025-01-03', tag: 'x', nested: { score: 3 } },
        { _id: 'r02', user: 'bob', n: 1, at: '2025-01-01', tag: null, nested: { score: 9 } },
        { _id: 'r03', user: 'ann', n: 3, at: '2025-01-02', nested: { score: 1 } },
        { _id: 'r04', user: 'cid', n: 5, at: '2025-01-05', tag: 'y', nested: { score: 4 } },
        { _id: 'r05', user: 'ann', n: 8, at: '2025-01-04', tag: 'x', nested: { score: 7 } },
        { _id: 'r06', user: 'bob', n: 5, at: '2025-01-06', tag: 'z', nested: { score: 2 } },
      ];
      const c = store.collection<Row>(name);
      for (const r of rows) await c.put(r);
      return rows;
    }

    describe('documents', () => {
      it('puts, gets by id and replaces a whole document', async () => {
        const c = store.collection<Row>(fresh());
        expect(await c.get('missing')).toBeNull();
        await c.put({ _id: 'a', user: 'ann', n: 1, at: '2025-01-01', tag: 'x' });
        await c.put({ _id: 'a', user: 'ann', n: 2, at: '2025-01-02' });
        expect(await c.get('a')).toEqual({ _id: 'a', user: 'ann', n: 2, at: '2025-01-02' });
      });

      it('finds by equality, range, $ne, $in and dotted paths', async () => {
        const name = fresh();
        await seed(name);
        const c = store.collection<Row>(name);
        const ids = async (f: Parameters<typeof c.find>[0]) => (await c.find(f, { sort: { field: '_id', direction: 'asc' } })).items.map((d) => d._id);
        expect(await ids({ user: 'ann' })).toEqual(['r01', 'r03', 'r05']);
        expect(await ids({ user: 'ann', n: 5 })).toEqual(['r01']);
        expect(await ids({ n: { $gt: 3, $lte: 5 } })).toEqual(['r01', 'r04', 'r06']);
        expect(await ids({ at: { $gte: '2025-01-02', $lt: '2025-01-05' } })).toEqual(['r01', 'r03', 'r05']);
        expect(await ids({ user: { $ne: 'ann' } })).toEqual(['r02', 'r04', 'r06']);
        expect(await ids({ user: { $in: ['bob', 'cid'] } })).toEqual(['r02', 'r04', 'r06']);
        expect(await ids({ user: { $in: [] } })).toEqual([]);
        expect(await ids({ 'nested.score': { $gte: 7 } })).toEqual(['r02', 'r05']);
        expect(await ids({ tag: null })).toEqual(['r02', 'r03']);
        expect(await ids({ _id: { $gt: 'r04' } })).toEqual(['r05', 'r06']);
      });

      it('sorts either way with _id breaking ties, limits, and pages with a cursor', async () => {
        const name = fresh();
        await seed(name);
        const c = store.collection<Row>(name);
        const asc = await c.find({}, { sort: { field: 'n', direction: 'asc' } });
        expect(asc.items.map((d) => d._id)).toEqual(['r02', 'r03', 'r01', 'r04', 'r06', 'r05']);
        expect(asc.nextCursor).toBeNull();
        const desc = await c.find({}, { sort: { field: 'n', direction: 'desc' } });
        expect(desc.items.map((d) => d._id)).toEqual(['r05', 'r06', 'r04', 'r01', 'r03', 'r02']);
        for (const direction of ['asc', 'desc'] as const) {
          const pages: string[][] = [];
          let cursor: string | undefined;
          do {
            const page = await c.find({ n: { $gte: 1 } }, { sort: { field: 'n', direction }, limit: 2, cursor });
            pages.push(page.items.map((d) => d._id));
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          expect(pages.flat()).toEqual((direction === 'asc' ? asc : desc).items.map((d) => d._id));
          expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
        }
        const byDate = await c.find({ user: 'ann' }, { sort: { field: 'at', direction: 'desc' }, limit: 2 });
        expect(byDate.items.map((d) => d._id)).toEqual(['r05', 'r01']);
        const next = await c.find({ user: 'ann' }, { sort: { field: 'at', direction: 'desc' }, limit: 2, cursor: byDate.nextCursor! });
        expect(next).toEqual({ items: [expect.objectContaining({ _id: 'r03' })], nextCursor: null });
      });

      it('counts with and without a filter', async () => {
        const name = fresh();
        await seed(name);
        const c = store.collection<Row>(name);
        expect(await c.count()).toBe(6);
        expect(await c.count({ user: 'ann' })).toBe(3);
        expect(await c.count({ n: { $gte: 5 } })).toBe(4);
        expect(await store.collection(fresh()).count()).toBe(0);
      });

      it('upserts: setOnInsert only on create, set, inc from 0, max, min, unset, dotted paths', async () => {
        const c = store.collection(fresh());
        await c.upsert('u1', { setOnInsert: { created: 'first', plan: 'free' }, set: { plan: 'pro', 'limits.calls': 10 }, inc: { calls: 2, 'by.openai': 1 }, max: { peak: 5 }, min: { low: 5 } });
        expect(await c.get('u1')).toEqual({ _id: 'u1', created: 'first', plan: 'pro', limits: { calls: 10 }, calls: 2, by: { openai: 1 }, peak: 5, low: 5 });
        await c.upsert('u1', { setOnInsert: { created: 'second' }, inc: { calls: 3, 'by.openai': 1, 'by.gemini': 4 }, max: { peak: 3 }, min: { low: 2 }, set: { 'limits.tokens': 99 }, unset: ['plan'] });
        expect(await c.get('u1')).toEqual({ _id: 'u1', created: 'first', limits: { calls: 10, tokens: 99 }, calls: 5, by: { openai: 2, gemini: 4 }, peak: 5, low: 2 });
        await c.upsert('u1', { max: { peak: 8, last_at: '2025-02-01' }, min: { low: 4 } });
        await c.upsert('u1', { max: { last_at: '2025-01-15' } });
        expect(await c.get('u1')).toMatchObject({ peak: 8, low: 2, last_at: '2025-02-01' });
      });

      it('deletes one document and reports whether it existed; drop empties a collection', async () => {
        const name = fresh();
        await seed(name);
        const c = store.collection<Row>(name);
        expect(await c.delete('r01')).toBe(true);
        expect(await c.delete('r01')).toBe(false);
        expect(await c.get('r01')).toBeNull();
        expect(await c.count()).toBe(5);
        await c.ensureIndex(['user', 'at']);
        await c.ensureIndex(['user', 'at']);
        await store.drop(name);
        expect(await c.count()).toBe(0);
        await c.put({ _id: 'again', user: 'x', n: 1, at: '2025-01-01' });
        expect(await c.count()).toBe(1);
      });
    });

    describe('checkpointed batches', () => {
      it('commits writes with the checkpoint, and a batch at or below the checkpoint changes nothing', async () => {
        const p = fresh('p');
        const c = fresh();
        expect(await store.getCheckpoint(p)).toBe(-1n);
        const seenCheckpoints: bigint[] = [];
        await store.applyBatch(p, 10n, async (batch, cp) => {
          seenCheckpoints.push(cp);
          await batch.collection(c).upsert('k', { inc: { n: 1 } });
        });
        expect(await store.getCheckpoint(p)).toBe(10n);
        let ran = false;
        await store.applyBatch(p, 10n, async (batch) => {
          ran = true;
          await batch.collection(c).upsert('k', { inc: { n: 1 } });
        });
        expect(ran).toBe(false);
        await store.applyBatch(p, 12n, async (batch, cp) => {
          seenCheckpoints.push(cp);
          await batch.collection(c).upsert('k', { inc: { n: 1 } });
        });
        expect(seenCheckpoints).toEqual([-1n, 10n]);
        expect(await store.collection(c).get('k')).toEqual({ _id: 'k', n: 2 });
        await store.resetCheckpoint(p);
        expect(await store.getCheckpoint(p)).toBe(-1n);
      });

      it('is atomic: when apply throws, no write of the batch and no checkpoint move is kept', async () => {
        const p = fresh('p');
        const c = fresh();
        await store.collection(c).put({ _id: 'keep', v: 1 });
        await store.applyBatch(p, 5n, async (batch) => batch.collection(c).upsert('a', { set: { v: 1 } }));
        const err = await store
          .applyBatch(p, 9n, async (batch) => {
            await batch.collection(c).upsert('a', { set: { v: 2 } });
            await batch.collection(c).put({ _id: 'b', v: 2 });
            await batch.collection(c).delete('keep');
            throw new Error('handler failed');
          })
          .catch((e) => e);
        expect(err).toBeInstanceOf(Error);
        expect(err.message).toBe('handler failed');
        expect(await store.getCheckpoint(p)).toBe(5n);
        expect(await store.collection(c).get('a')).toEqual({ _id: 'a', v: 1 });
        expect(await store.collection(c).get('b')).toBeNull();
        expect(await store.collection(c).get('keep')).toEqual({ _id: 'keep', v: 1 });
      });

      it('reads its own writes inside a batch', async () => {
        const p = fresh('p');
        const c = fresh();
        await store.applyBatch(p, 1n, async (batch) => {
          const col = batch.collection(c);
          await col.upsert('x', { inc: { n: 1 } });
          await col.upsert('x', { inc: { n: 1 } });
          expect(await col.get('x')).toEqual({ _id: 'x', n: 2 });
          expect(await col.count({ n: 2 })).toBe(1);
        });
        expect(await store.collection(c).get('x')).toEqual({ _id: 'x', n: 2 });
      });

      it('later batches read what earlier ones wrote, whether the writer read the document first or not', async () => {
        const p = fresh('p');
        const c = fresh();
        // Batch 1 writes a line it never reads (like a log line) and a total it reads and changes.
        await store.applyBatch(p, 1n, async (batch) => {
          await batch.collection(c).put({ _id: 'line', v: 1 });
          await batch.collection(c).upsert('total', { inc: { n: 1 } });
        });
        // Batch 2 reads the line; batch 3 replaces it without reading it; batch 4 must see batch 3's version.
        await store.applyBatch(p, 2n, async (batch) => {
          expect(await batch.collection(c).get('line')).toEqual({ _id: 'line', v: 1 });
          await batch.collection(c).upsert('total', { inc: { n: 1 } });
        });
        await store.applyBatch(p, 3n, async (batch) => batch.collection(c).put({ _id: 'line', v: 3 }));
        await store.applyBatch(p, 4n, async (batch) => {
          expect(await batch.collection(c).get('line')).toEqual({ _id: 'line', v: 3 });
          expect(await batch.collection(c).get('total')).toEqual({ _id: 'total', n: 2 });
        });
        expect(await store.collection(c).get('line')).toEqual({ _id: 'line', v: 3 });
      });

      it('a unit that does not continue from the stored checkpoint is not applied and says so', async () => {
        const p = fresh('p');
        const q = fresh('p');
        const c = fresh();
        const add = (id: string) => async (batch: ProjectionBatch) => batch.collection(c).upsert(id, { inc: { n: 1 } });
        // Given a projection applied up to 10 (its batch continued from the start: after -1)
        expect(await store.applyBatch(p, 10n, add('a'), -1n)).toBe('applied');
        // When a batch claims to follow on from 15 (events 11..15 of its types not in it): refused, nothing written
        let ran = false;
        const gap = await store.applyBatch(p, 20n, async (batch) => {
          ran = true;
          await add('gap')(batch);
        }, 15n);
        expect(gap).toBe('refused');
        expect(ran).toBe(false);
        expect(await store.getCheckpoint(p)).toBe(10n);
        expect(await store.collection(c).get('gap')).toBeNull();
        // A batch that follows on from at or before the checkpoint is applied; one it covers is skipped
        expect(await store.applyBatch(p, 20n, add('a'), 8n)).toBe('applied');
        expect(await store.applyBatch(p, 20n, add('a'), 10n)).toBe('skipped');
        expect(await store.getCheckpoint(p)).toBe(20n);
        expect(await store.collection(c).get('a')).toEqual({ _id: 'a', n: 2 });

        // Several projections in one unit: the refused one is named, the others land
        if (store.applyBatches) {
          const refused = await store.applyBatches([
            { projection: p, position: 30n, after: 25n, apply: add('gap') },
            { projection: q, position: 5n, after: -1n, apply: add('q') },
          ]);
          expect(refused).toEqual([p]);
          expect(await store.getCheckpoint(p)).toBe(20n);
          expect(await store.getCheckpoint(q)).toBe(5n);
          expect(await store.collection(c).get('gap')).toBeNull();
          expect(await store.collection(c).get('q')).toEqual({ _id: 'q', n: 1 });
        }

        // After a reset (a rebuild elsewhere), a follower's next batch is refused; the replay from the start is not
        await store.resetCheckpoint(p);
        expect(await store.applyBatch(p, 40n, add('late'), 20n)).toBe('refused');
        expect(await store.applyBatch(p, 12n, add('replayed'), -1n)).toBe('applied');
        expect(await store.getCheckpoint(p)).toBe(12n);
        expect(await store.collection(c).get('late')).toBeNull();
      });

      it('resets a projection: checkpoint and collections together', async () => {
        if (!store.resetProjection) return;
        const p = fresh('p');
        const [c1, c2, other] = [fresh(), fresh(), fresh()];
        await store.applyBatch(p, 7n, async (batch) => {
          await batch.collection(c1).put({ _id: 'x', v: 1 });
          await batch.collection(c2).put({ _id: 'y', v: 2 });
        });
        await store.collection(other).put({ _id: 'z', v: 3 });
        await store.resetProjection(p, [c1, c2]);
        expect(await store.getCheckpoint(p)).toBe(-1n);
        expect(await store.collection(c1).count()).toBe(0);
        expect(await store.collection(c2).count()).toBe(0);
        expect(await store.collection(other).get('z')).toEqual({ _id: 'z', v: 3 });
        expect(await store.applyBatch(p, 9n, async (batch) => batch.collection(c1).put({ _id: 'again', v: 1 }), -1n)).toBe('applied');
        expect(await store.collection(c1).count()).toBe(1);
      });

      it('keeps checkpoints and documents across a restart', async () => {
        const p = fresh('p');
        const c = fresh();
        await store.applyBatch(p, 42n, async (batch) => batch.collection(c).put({ _id: 'd', v: 'kept' }));
        store = await harness.reopen(store);
        expect(await store.getCheckpoint(p)).toBe(42n);
        expect(await store.collection(c).get('d')).toEqual({ _id: 'd', v: 'kept' });
      });
    });

    describe('consistent snapshot of a projection (readSnapshot)', () => {
      async function snapshot(p: string, c: string): Promise<{ checkpoint: bigint; docs: Doc[] }> {
        const docs: Doc[] = [];
        const checkpoint = await store.readSnapshot!(p, c, (d) => docs.push(d));
        docs.sort((a, b) => a._id.localeCompare(b._id));
        return { checkpoint, docs };
      }

      it('is offered by the adapter', () => {
        expect(typeof store.readSnapshot).toBe('function');
      });

      it('reads -1 and nothing before the projection ever committed, then the checkpoint with exactly its documents', async () => {
        const p = fresh('p');
        const c = fresh();
        expect(await snapshot(p, c)).toEqual({ checkpoint: -1n, docs: [] });
        await store.applyBatch(p, 5n, async (batch) => {
          await batch.collection(c).put({ _id: 'a', v: 1, nested: { n: '0.1' } });
          await batch.collection(c).put({ _id: 'b', v: 2 });
        });
        await store.applyBatch(p, 8n, async (batch) => {
          await batch.collection(c).upsert('a', { inc: { v: 10 } });
          await batch.collection(c).delete('b');
        });
        expect(await snapshot(p, c)).toEqual({ checkpoint: 8n, docs: [{ _id: 'a', v: 11, nested: { n: '0.1' } }] });
        await store.resetProjection?.(p, [c]);
        if (store.resetProjection) expect(await snapshot(p, c)).toEqual({ checkpoint: -1n, docs: [] });
      });

      it('never sees half of a batch: a snapshot taken while one is open holds it whole with its checkpoint, or none of it', async () => {
        const p = fresh('p');
        const c = fresh();
        await store.applyBatch(p, 3n, async (batch) => {
          await batch.collection(c).put({ _id: 'a', v: 1 });
          await batch.collection(c).put({ _id: 'b', v: 1 });
        });
        const before = { checkpoint: 3n, docs: [{ _id: 'a', v: 1 }, { _id: 'b', v: 1 }] };
        const after = { checkpoint: 4n, docs: [{ _id: 'a', v: 2 }, { _id: 'c', v: 2 }] };
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let wrote!: () => void;
        const halfWritten = new Promise<void>((r) => (wrote = r));
        const open = store.applyBatch(p, 4n, async (batch) => {
          await batch.collection(c).upsert('a', { set: { v: 2 } });
          await batch.collection(c).delete('b');
          wrote();
          await gate;
          await batch.collection(c).put({ _id: 'c', v: 2 });
        });
        await halfWritten;
        const during = snapshot(p, c);
        await new Promise((r) => setTimeout(r, 50));
        release();
        await open;
        expect([before, after]).toContainEqual(await during);
        expect(await snapshot(p, c)).toEqual(after);
      });

      it('stays consistent while batches keep landing, and the store works on after a reader that throws', async () => {
        const p = fresh('p');
        const c = fresh();
        // Batch n moves every document to v = n and adds document n: a consistent view at checkpoint n has n documents, all v = n.
        const writer = (async () => {
          for (let n = 1; n <= 20; n++)
            await store.applyBatch(p, BigInt(n), async (batch) => {
              for (let i = 1; i < n; i++) await batch.collection(c).upsert(`d${String(i).padStart(2, '0')}`, { set: { v: n } });
              await batch.collection(c).put({ _id: `d${String(n).padStart(2, '0')}`, v: n });
            });
        })();
        const seen: bigint[] = [];
        for (let k = 0; k < 15; k++) {
          const s = await snapshot(p, c);
          seen.push(s.checkpoint);
          const n = s.checkpoint < 0n ? 0 : Number(s.checkpoint);
          expect(s.docs).toEqual(Array.from({ length: n }, (_, i) => ({ _id: `d${String(i + 1).padStart(2, '0')}`, v: n })));
          await new Promise((r) => setTimeout(r, 1));
        }
        await writer;
        expect(seen).toEqual([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
        const failed = await store.readSnapshot!(p, c, () => {
          throw new Error('reader failed');
        }).catch((e: Error) => e);
        expect((failed as Error).message).toBe('reader failed');
        await store.applyBatch(p, 21n, async (batch) => batch.collection(c).put({ _id: 'd21', v: 21 }));
        const s = await snapshot(p, c);
        expect(s.checkpoint).toBe(21n);
        expect(s.docs).toHaveLength(21);
      });
    });

    describe('projection runner over this store', () => {
      let dir: string;
      let events: SqliteEventStore;
      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-runner-'));
        events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 20 });
      });
      afterEach(async () => {
        await events.close();
        fs.rmSync(dir, { recursive: true, force: true });
      });

      async function record(user: string, tokens: number): Promise<void> {
        await events.append(`usage-${user}`, [{ id: randomUUID(), type: 'UsageRecorded', data: { user_id: user, tokens }, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } }]);
        await events.append(`noise-${user}`, [{ id: randomUUID(), type: 'SomethingElse', data: {}, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } }]);
      }

      async function totals(c: string): Promise<Record<string, number>> {
        const page = await store.collection(c).find({}, { limit: 1000 });
        return Object.fromEntries(page.items.map((d) => [d._id, d.total as number]));
      }

      it('resumes from its checkpoint after a restart and ends where a full rebuild ends', async () => {
        const name = fresh('p');
        const c = fresh();
        for (let i = 0; i < 30; i++) await record(`u${i % 4}`, i);
        let runner = new ProjectionRunner(events, store, [userTotalsProjection(name, c)], { batchSize: 7 });
        await runner.start();
        await runner.caughtUp();
        const checkpoint = await store.getCheckpoint(name);
        expect(checkpoint).toBe((await events.readAll({ after: -1n, maxCount: 1000, types: ['UsageRecorded'] })).at(-1)!.position);
        await runner.stop();

        for (let i = 30; i < 50; i++) await record(`u${i % 5}`, i);
        store = await harness.reopen(store);
        runner = new ProjectionRunner(events, store, [userTotalsProjection(name, c)], { batchSize: 7 });
        await runner.start();
        await runner.caughtUp();
        const resumed = await totals(c);
        const expected: Record<string, number> = {};
        let callsOfU0 = 0;
        for (let i = 0; i < 50; i++) {
          const u = i < 30 ? `u${i % 4}` : `u${i % 5}`;
          expected[u] = (expected[u] ?? 0) + i;
          if (u === 'u0') callsOfU0++;
        }
        expect(resumed).toEqual(expected);
        expect((await store.collection(c).get('u0'))!.calls).toBe(callsOfU0);
        expect((await runner.status())[0]).toMatchObject({ name, lag: 0, running: true, error: null });

        const progress: number[] = [];
        const rebuilt = await runner.rebuild(name, (done) => progress.push(done));
        expect(rebuilt.events).toBe(50);
        expect(progress.at(-1)).toBe(50);
        expect(await totals(c)).toEqual(expected);
        await record('u9', 1000);
        await runner.caughtUp();
        expect((await totals(c)).u9).toBe(1000);
        await runner.stop();
      });

      it('a redelivered event changes no read model', async () => {
        const name = fresh('p');
        const c = fresh();
        for (let i = 0; i < 10; i++) await record(`u${i % 2}`, 10);
        const projection = userTotalsProjection(name, c);
        const runner = new ProjectionRunner(events, store, [projection]);
        await runner.start();
        await runner.caughtUp();
        const before = await store.collection(c).find({}, { limit: 100 });
        const all = await events.readAll({ after: -1n, maxCount: 1000, types: ['UsageRecorded'] });
        await runner.apply(projection, all);
        await runner.apply(projection, all.slice(3, 5));
        await runner.apply(projection, [all[all.length - 1]]);
        expect(await store.collection(c).find({}, { limit: 100 })).toEqual(before);
        expect(await totals(c)).toEqual({ u0: 50, u1: 50 });
        await runner.stop();
      });
    });
  });
}
