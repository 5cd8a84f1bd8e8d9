import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Collection, ProjectionBatch } from '../port';
import { SqliteReadStore } from './sqlite-read-store';

/** A projection writes through its batch's collections; standalone writes take the store's write lock. */
describe('SqliteReadStore batches', () => {
  let dir: string;
  let store: SqliteReadStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rs-batch-'));
    store = new SqliteReadStore({ file: path.join(dir, 'read-models.db'), sync: 'normal' });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('given a standalone write made while a batch runs, when both end, then it waited for the batch and both are stored', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const batch = store.applyBatch('p', 1n, async (b) => {
      await b.collection('docs').put({ _id: 'a', by: 'batch' });
      await held;
      order.push('batch');
    });
    const standalone = store.collection('docs').put({ _id: 'b', by: 'standalone' }).then(() => order.push('standalone'));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    release();
    await Promise.all([batch, standalone]);
    expect(order).toEqual(['batch', 'standalone']);
    expect(await store.collection('docs').get('a')).toEqual({ _id: 'a', by: 'batch' });
    expect(await store.collection('docs').get('b')).toEqual({ _id: 'b', by: 'standalone' });
    expect(await store.getCheckpoint('p')).toBe(1n);
  });

  it('given a batch collection kept after its batch, when written, then it refuses instead of writing outside any batch', async () => {
    let kept!: Collection;
    await store.applyBatch('p', 1n, async (b: ProjectionBatch) => {
      kept = b.collection('docs');
      await kept.put({ _id: 'a', n: 1 });
    });
    await expect(kept.put({ _id: 'a', n: 2 })).rejects.toThrow('after the batch ended');
    expect(await store.collection('docs').get('a')).toEqual({ _id: 'a', n: 1 });
  });

  describe('the committed-document cache', () => {
    type Counter = { _id: string; n: number };
    const bump = (b: ProjectionBatch, id: string) => async () => {
      const docs = b.collection<Counter>('docs');
      const doc = (await docs.get(id)) ?? { _id: id, n: 0 };
      doc.n += 1;
      await docs.put(doc);
      return doc;
    };

    it('given a document a unit wrote, when the next unit reads it, then it gets the object written (no parse) and the file agrees', async () => {
      let first!: Counter;
      let second!: Counter;
      await store.applyBatch('p', 1n, async (b) => void (first = await bump(b, 'a')()));
      await store.applyBatch('p', 2n, async (b) => void (second = await bump(b, 'a')()));
      expect(second).toBe(first);
      expect(await store.collection('docs').get('a')).toEqual({ _id: 'a', n: 2 });
    });

    it('given a unit that changed a document and then failed, when the next unit reads it, then it gets what the file holds', async () => {
      await store.applyBatch('p', 1n, async (b) => void (await bump(b, 'a')()));
      await expect(
        store.applyBatch('p', 2n, async (b) => {
          await bump(b, 'a')();
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      let seen!: Counter;
      await store.applyBatch('p', 2n, async (b) => void (seen = await bump(b, 'a')()));
      expect(seen.n).toBe(2);
      expect(await store.collection('docs').get('a')).toEqual({ _id: 'a', n: 2 });
    });

    it('given a unit that changed a document it read but did not write it, when the next unit reads it, then it gets what the file holds', async () => {
      await store.applyBatch('p', 1n, async (b) => void (await bump(b, 'a')()));
      await store.applyBatch('p', 2n, async (b) => {
        const doc = (await b.collection<Counter>('docs').get('a'))!;
        doc.n = 99;
      });
      let seen!: Counter;
      await store.applyBatch('p', 3n, async (b) => void (seen = (await b.collection<Counter>('docs').get('a'))!));
      expect(seen).toEqual({ _id: 'a', n: 1 });
    });

    it('given a projection that kept a document past its unit and changed it, when a unit reads it, then (under test) it fails loudly', async () => {
      let kept!: Counter;
      await store.applyBatch('p', 1n, async (b) => void (kept = await bump(b, 'a')()));
      kept.n = 42;
      await expect(store.applyBatch('p', 2n, async (b) => void (await b.collection<Counter>('docs').get('a')))).rejects.toThrow('changed in the read store\'s cache outside a unit');
      expect(await store.collection('docs').get('a')).toEqual({ _id: 'a', n: 1 });
    });
  });
});
