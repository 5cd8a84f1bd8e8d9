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
});
