import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { Doc, Filter, ProjectionBatch, ReadStore } from '../../libs/read-store/port';
import { InvalidCursorError } from '../../libs/read-store/document-update';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { ProjectionRunner } from '../../libs/projections';
import { userTotalsProjection } from './user-totals.projection';

/** How a contract run gets its adapter: a fresh store, and the same store opened again (a restart). */
export interface ReadStoreHarness {
  open(): Promise<ReadStore>;
  reopen(store: ReadStore): Promise<ReadStore>;
  /** A second store instance over the same data (another process or instance sharing it). */
  openAnother(store: ReadStore): Promise<ReadStore>;
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

    describe('values, filters and updates mean the same on every adapter', () => {
      const ids = async (name: string, f: Filter) => (await store.collection(name).find(f, { sort: { field: '_id', direction: 'asc' } })).items.map((d) => d._id);

      it('stores a document as its JSON: undefined absent, NaN and Infinity null, -0 as 0, a Date as its ISO string; a bigint is refused', async () => {
        const c = fresh();
        const at = new Date('2025-03-01T10:00:00.000Z');
        const doc = { _id: 'v', gone: undefined, nan: NaN, inf: -Infinity, zero: -0, at, nested: { gone: undefined, nan: NaN }, list: [undefined, NaN, 1] };
        const expected = { _id: 'v', nan: null, inf: null, zero: 0, at: '2025-03-01T10:00:00.000Z', nested: { nan: null }, list: [null, null, 1] };
        await store.collection(c).put(doc as unknown as Doc);
        expect(await store.collection(c).get('v')).toEqual(expected);
        const p = fresh('p');
        await store.applyBatch(p, 1n, async (batch) => batch.collection(c).put({ ...(doc as unknown as Doc), _id: 'w' }));
        await store.collection(c).upsert('u', { set: { keep: 1, gone: 1 } });
        await store.collection(c).upsert('u', { set: { gone: undefined, nan: NaN, at, zero: -0 }, setOnInsert: { never: 1 } });
        store = await harness.reopen(store);
        expect(await store.collection(c).get('w')).toEqual({ ...expected, _id: 'w' });
        const u = await store.collection(c).get('u');
        expect(u).toEqual({ _id: 'u', keep: 1, nan: null, at: '2025-03-01T10:00:00.000Z', zero: 0 });
        expect(Object.is(u!.zero, 0)).toBe(true);
        await expect(store.collection(c).put({ _id: 'b', big: 1n } as unknown as Doc)).rejects.toThrow();
        await expect(store.collection(c).upsert('b', { set: { big: 1n } })).rejects.toThrow();
        expect(await store.collection(c).get('b')).toBeNull();
      });

      it('ignores undefined conditions and refuses unknown operators, bad field names and values that are not scalars', async () => {
        const name = fresh();
        await seed(name);
        expect(await ids(name, { user: 'ann', n: undefined } as unknown as Filter)).toEqual(['r01', 'r03', 'r05']);
        expect(await ids(name, { n: { $gte: 5, $lt: undefined } })).toEqual(['r01', 'r04', 'r05', 'r06']);
        const c = store.collection(name);
        for (const bad of [
          { n: { $where: 'true' } },
          { n: { $regex: '.' } },
          { 'user; DROP': 'x' },
          { $or: [{ n: 1 }] },
          { "n') OR 1=1 --": 1 },
          { n: NaN },
          { n: { $gt: Infinity } },
          { at: new Date('2025-01-01') },
          { n: { $gt: null } },
          { n: { $in: 'x' } },
          { n: { $in: [{ $gt: 0 }] } },
          { nested: { score: 3 } },
          { n: [5] },
        ])
          await expect(c.find(bad as unknown as Filter)).rejects.toThrow();
        await expect(c.count({ n: { $ne: { $gt: 1 } } } as unknown as Filter)).rejects.toThrow();
        await expect(c.find({}, { sort: { field: 'n; DROP', direction: 'asc' } })).rejects.toThrow();
      });

      it('keeps booleans and numbers apart', async () => {
        const c = fresh();
        for (const [id, flag] of [['t', true], ['f', false], ['one', 1], ['zero', 0], ['s', 'true']] as const) await store.collection(c).put({ _id: id, flag });
        expect(await ids(c, { flag: true })).toEqual(['t']);
        expect(await ids(c, { flag: false })).toEqual(['f']);
        expect(await ids(c, { flag: 1 })).toEqual(['one']);
        expect(await ids(c, { flag: 0 })).toEqual(['zero']);
        expect(await ids(c, { flag: { $in: [true, 0] } })).toEqual(['t', 'zero']);
        expect(await ids(c, { flag: { $ne: true } })).toEqual(['f', 'one', 's', 'zero']);
        expect(await ids(c, { flag: { $gt: false } })).toEqual(['t']);
        expect(await store.collection(c).count({ flag: { $ne: 1 } })).toBe(4);
      });

      it('compares within one type only; null and $in null match null and missing; arrays and objects equal no scalar', async () => {
        const c = fresh();
        const values: Array<[string, unknown]> = [['n5', 5], ['n10', 10], ['s5', '5'], ['sabc', 'abc'], ['nul', null], ['arr', [5, 'abc']], ['obj', { a: 5 }], ['json', '[5]']];
        for (const [id, v] of values) await store.collection(c).put({ _id: id, v });
        await store.collection(c).put({ _id: 'miss' });
        // Ranges over a field that also holds arrays or objects are not supported (see FieldFilter): a copy without them.
        const scalars = fresh();
        for (const [id, v] of values) if (id !== 'arr' && id !== 'obj') await store.collection(scalars).put({ _id: id, v });
        expect(await ids(c, { v: 5 })).toEqual(['n5']);
        expect(await ids(c, { v: '5' })).toEqual(['s5']);
        expect(await ids(c, { v: '[5]' })).toEqual(['json']);
        expect(await ids(c, { v: 'abc' })).toEqual(['sabc']);
        expect(await ids(scalars, { v: { $gt: 4 } })).toEqual(['n10', 'n5']);
        expect(await ids(scalars, { v: { $lte: 'b' } })).toEqual(['json', 's5', 'sabc']);
        expect(await ids(scalars, { v: { $gte: '' } })).toEqual(['json', 's5', 'sabc']);
        expect(await ids(scalars, { v: { $lt: 100 } })).toEqual(['n10', 'n5']);
        expect(await ids(c, { v: null })).toEqual(['miss', 'nul']);
        expect(await ids(c, { v: { $ne: null } })).toEqual(['arr', 'json', 'n10', 'n5', 'obj', 's5', 'sabc']);
        expect(await ids(c, { v: { $in: [null, 10] } })).toEqual(['miss', 'n10', 'nul']);
        expect(await ids(c, { v: { $in: [5, 'abc'] } })).toEqual(['n5', 'sabc']);
        expect(await ids(c, { v: { $ne: 5 } })).toEqual(['arr', 'json', 'miss', 'n10', 'nul', 'obj', 's5', 'sabc']);
        expect(await ids(c, { 'v.a': 5 })).toEqual(['obj']);
        expect(await store.collection(c).count({ v: { $in: [null] } })).toBe(2);
      });

      it('pages through null and missing sort values: first ascending, last descending, none lost or repeated', async () => {
        const c = fresh();
        const docs: Array<[string, number | null | undefined]> = [['a', 3], ['b', null], ['c', undefined], ['d', 1], ['e', 2], ['f', null], ['g', 1], ['h', undefined]];
        for (const [id, s] of docs) await store.collection(c).put(s === undefined ? { _id: id } : { _id: id, s });
        const ascending = ['b', 'c', 'f', 'h', 'd', 'g', 'e', 'a'];
        for (const direction of ['asc', 'desc'] as const) {
          const all = (await store.collection(c).find({}, { sort: { field: 's', direction } })).items.map((d) => d._id);
          expect(all).toEqual(direction === 'asc' ? ascending : [...ascending].reverse());
          for (const limit of [1, 2, 3]) {
            const seen: string[] = [];
            let cursor: string | undefined;
            do {
              const page = await store.collection(c).find({}, { sort: { field: 's', direction }, limit, cursor });
              seen.push(...page.items.map((d) => d._id));
              cursor = page.nextCursor ?? undefined;
            } while (cursor);
            expect(seen).toEqual(all);
          }
        }
      });

      it('sorts and pages by a dotted path', async () => {
        const name = fresh();
        await seed(name);
        for (const direction of ['asc', 'desc'] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.collection(name).find({ user: { $ne: 'cid' } }, { sort: { field: 'nested.score', direction }, limit: 2, cursor });
            seen.push(...page.items.map((d) => d._id));
            cursor = page.nextCursor ?? undefined;
          } while (cursor);
          const asc = ['r03', 'r06', 'r01', 'r05', 'r02'];
          expect(seen).toEqual(direction === 'asc' ? asc : [...asc].reverse());
        }
      });

      it('refuses a cursor it did not issue, one carrying an operator object included', async () => {
        const name = fresh();
        await seed(name);
        const c = store.collection<Row>(name);
        const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
        for (const cursor of ['not-a-cursor', forged([{ $gt: '' }, 'r01']), forged(['x']), forged([1, 2]), forged({ a: 1 }), forged([[1], 'r01'])])
          await expect(c.find({}, { sort: { field: 'n', direction: 'asc' }, limit: 2, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
      });

      it('refuses conflicting paths, _id, inc of a non-number and writes through a non-object, leaving the document as it was', async () => {
        const c = store.collection(fresh());
        await c.put({ _id: 'd', s: 'text', z: null, a: { b: 1 }, n: 1, list: [1] });
        const before = await c.get('d');
        for (const bad of [
          { set: { a: 1 }, inc: { 'a.b': 1 } },
          { set: { x: 1 }, unset: ['x'] },
          { inc: { n: 1 }, max: { n: 3 } },
          { set: { 'a.b': 1 }, setOnInsert: { a: {} } },
          { set: { _id: 'other' } },
          { unset: ['_id'] },
          { inc: { s: 1 } },
          { inc: { z: 1 } },
          { set: { 's.t': 1 } },
          { inc: { 'z.t': 1 } },
          { set: { 'list.x': 1 } },
          { inc: { n: NaN } },
          { max: { n: Infinity } },
          { set: { 'bad name': 1 } },
          { set: { $where: 1 } },
        ])
          await expect(c.upsert('d', bad as never)).rejects.toThrow();
        expect(await c.get('d')).toEqual(before);
        // The same refusals inside a batch fail the unit, which then lands nothing.
        const p = fresh('p');
        await expect(store.applyBatch(p, 1n, async (batch) => {
          await batch.collection(c.name).upsert('d', { set: { touched: true } });
          await batch.collection(c.name).upsert('d', { inc: { s: 1 } });
        })).rejects.toThrow();
        expect(await store.getCheckpoint(p)).toBe(-1n);
        expect(await c.get('d')).toEqual(before);
      });

      it('max and min compare in one order of types (null < numbers < strings); empty updates create the document and change nothing else', async () => {
        const c = store.collection(fresh());
        await c.put({ _id: 'm', s: 'abc', n: 5, z: null });
        await c.upsert('m', { max: { s: 7, n: 'a' } });
        await c.upsert('m', { min: { z: 3 } });
        expect(await c.get('m')).toEqual({ _id: 'm', s: 'abc', n: 'a', z: null });
        await c.upsert('m', { max: { z: 3 } });
        expect(await c.get('m')).toEqual({ _id: 'm', s: 'abc', n: 'a', z: 3 });
        await c.upsert('e', {});
        await c.upsert('e2', { set: {}, inc: {}, unset: [] });
        expect(await c.get('e')).toEqual({ _id: 'e' });
        expect(await c.get('e2')).toEqual({ _id: 'e2' });
        await c.upsert('m', {});
        expect(await c.get('m')).toEqual({ _id: 'm', s: 'abc', n: 'a', z: 3 });
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
        const refused = await store.applyBatches!([
          { projection: p, position: 30n, after: 25n, apply: add('gap') },
          { projection: q, position: 5n, after: -1n, apply: add('q') },
        ]);
        expect(refused).toEqual([p]);
        expect(await store.getCheckpoint(p)).toBe(20n);
        expect(await store.getCheckpoint(q)).toBe(5n);
        expect(await store.collection(c).get('gap')).toBeNull();
        expect(await store.collection(c).get('q')).toEqual({ _id: 'q', n: 1 });

        // After a reset (a rebuild elsewhere), a follower's next batch is refused; the replay from the start is not
        await store.resetCheckpoint(p);
        expect(await store.applyBatch(p, 40n, add('late'), 20n)).toBe('refused');
        expect(await store.applyBatch(p, 12n, add('replayed'), -1n)).toBe('applied');
        expect(await store.getCheckpoint(p)).toBe(12n);
        expect(await store.collection(c).get('late')).toBeNull();
      });

      it('resets a projection: checkpoint and collections together', async () => {
        expect(typeof store.resetProjection).toBe('function');
        const p = fresh('p');
        const [c1, c2, other] = [fresh(), fresh(), fresh()];
        await store.applyBatch(p, 7n, async (batch) => {
          await batch.collection(c1).put({ _id: 'x', v: 1 });
          await batch.collection(c2).put({ _id: 'y', v: 2 });
        });
        await store.collection(other).put({ _id: 'z', v: 3 });
        await store.resetProjection!(p, [c1, c2]);
        expect(await store.getCheckpoint(p)).toBe(-1n);
        expect(await store.collection(c1).count()).toBe(0);
        expect(await store.collection(c2).count()).toBe(0);
        expect(await store.collection(other).get('z')).toEqual({ _id: 'z', v: 3 });
        expect(await store.applyBatch(p, 9n, async (batch) => batch.collection(c1).put({ _id: 'again', v: 1 }), -1n)).toBe('applied');
        expect(await store.collection(c1).count()).toBe(1);
      });

      it('applyBatches lands all of its units or none: when the second projection throws, the first one\'s writes and checkpoint are undone too', async () => {
        const [p, q] = [fresh('p'), fresh('p')];
        const c = fresh();
        await store.applyBatch(p, 1n, async (batch) => batch.collection(c).put({ _id: 'a', v: 1 }));
        const err = await store.applyBatches!([
          { projection: p, position: 5n, after: 1n, apply: async (batch) => batch.collection(c).upsert('a', { set: { v: 2 } }) },
          {
            projection: q,
            position: 5n,
            after: -1n,
            apply: async (batch) => {
              await batch.collection(c).put({ _id: 'b', v: 1 });
              throw new Error('second projection failed');
            },
          },
        ]).catch((e: Error) => e);
        expect((err as Error).message).toBe('second projection failed');
        expect(await store.getCheckpoint(p)).toBe(1n);
        expect(await store.getCheckpoint(q)).toBe(-1n);
        expect(await store.collection(c).get('a')).toEqual({ _id: 'a', v: 1 });
        expect(await store.collection(c).get('b')).toBeNull();
      });

      it('two store instances on the same data take turns: each sees the other\'s commits, skips what it covered and refuses a gap', async () => {
        const other = await harness.openAnother(store);
        try {
          const p = fresh('p');
          const c = fresh();
          const bump = (seen: Array<number | null>) => async (batch: ProjectionBatch) => {
            seen.push(((await batch.collection(c).get('k')) as { n?: number } | null)?.n ?? null);
            await batch.collection(c).upsert('k', { inc: { n: 1 } });
          };
          const seen: Array<number | null> = [];
          // The other instance reads k first (a cache would now hold "missing")
          await other.applyBatch(fresh('p'), 1n, async (batch) => void seen.push((await batch.collection(c).get('k')) === null ? null : -1));
          expect(await store.applyBatch(p, 10n, bump(seen), -1n)).toBe('applied');
          expect(await other.applyBatch(p, 10n, bump(seen), -1n)).toBe('skipped');
          expect(await other.applyBatch(p, 12n, bump(seen), 10n)).toBe('applied');
          expect(await store.applyBatch(p, 12n, bump(seen), 10n)).toBe('skipped');
          expect(await store.applyBatch(p, 15n, bump(seen), 12n)).toBe('applied');
          await other.resetCheckpoint(p);
          expect(await store.applyBatch(p, 20n, bump(seen), 15n)).toBe('refused');
          expect(seen).toEqual([null, null, 1, 2]);
          expect(await other.collection(c).get('k')).toEqual({ _id: 'k', n: 3 });
          expect(await store.getCheckpoint(p)).toBe(-1n);
        } finally {
          await other.close();
        }
      });

      it('a standalone write made while a unit is open lands after that unit', async () => {
        const p = fresh('p');
        const c = fresh();
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let wrote!: () => void;
        const written = new Promise<void>((r) => (wrote = r));
        const order: string[] = [];
        const unit = store
          .applyBatch(p, 1n, async (batch) => {
            await batch.collection(c).put({ _id: 'x', v: 'unit' });
            wrote();
            await gate;
          })
          .then(() => order.push('unit'));
        await written;
        const standalone = store.collection(c).put({ _id: 'x', v: 'standalone' }).then(() => order.push('standalone'));
        release();
        await Promise.all([unit, standalone]);
        expect(order).toEqual(['unit', 'standalone']);
        expect(await store.collection(c).get('x')).toEqual({ _id: 'x', v: 'standalone' });
        expect(await store.getCheckpoint(p)).toBe(1n);
      });

      it('ensureIndex inside a unit, on a collection the unit creates, neither blocks the unit nor loses its writes', async () => {
        const p = fresh('p');
        const c = fresh();
        expect(await store.applyBatch(p, 1n, async (batch) => {
          await batch.collection(c).put({ _id: 'a', user: 'ann' });
          await batch.collection(c).ensureIndex(['user']);
          await batch.collection(c).put({ _id: 'b', user: 'bob' });
        })).toBe('applied');
        await store.collection(c).ensureIndex(['user']);
        expect((await store.collection(c).find({ user: 'bob' })).items).toEqual([{ _id: 'b', user: 'bob' }]);
        expect(await store.collection(c).count()).toBe(2);
      });

      it('resets a projection with more documents than one delete chunk, and puts more documents in one unit than one bulk write holds (the harness sets both to 100 where the adapter has them)', async () => {
        const p = fresh('p');
        const c = fresh();
        await store.applyBatch(p, 3n, async (batch) => {
          for (let i = 0; i < 250; i++) await batch.collection(c).put({ _id: `d${String(i).padStart(4, '0')}`, i });
        });
        expect(await store.collection(c).count()).toBe(250);
        expect(await store.collection(c).count({ i: { $gte: 200 } })).toBe(50);
        await store.resetProjection!(p, [c]);
        expect(await store.getCheckpoint(p)).toBe(-1n);
        expect(await store.collection(c).count()).toBe(0);
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
        await store.resetProjection!(p, [c]);
        expect(await snapshot(p, c)).toEqual({ checkpoint: -1n, docs: [] });
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
