import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { SqliteReadStore } from './sqlite-read-store';

/**
 * readSnapshot on SQLite against ANOTHER connection's commits, as in production, where the projection worker thread
 * commits batches on its own connection while the HTTP thread reads: every snapshot holds the documents of exactly
 * the checkpoint it returns. The writer is a thread of its own (commits land between any two statements of the
 * reader), writing in the read store's layout: per batch n, in one transaction, every document to v = n, document n
 * added, checkpoint n.
 */
const WRITER = `
const { workerData, parentPort } = require('worker_threads');
const Database = require('better-sqlite3');
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const bump = db.prepare("UPDATE rm_snap SET doc = json_set(doc, '$.v', ?)");
const add = db.prepare('INSERT INTO rm_snap (id, doc) VALUES (?, ?)');
const cp = db.prepare("INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ('p', ?, '') ON CONFLICT(name) DO UPDATE SET position = excluded.position");
const batch = db.transaction((n) => {
  bump.run(n);
  add.run('d' + String(n).padStart(5, '0'), JSON.stringify({ _id: 'd' + String(n).padStart(5, '0'), v: n }));
  cp.run(n);
});
for (let n = 1; n <= workerData.batches; n++) batch(n);
db.close();
parentPort.postMessage('done');
`;

describe('SqliteReadStore.readSnapshot against another connection', () => {
  let dir: string;
  let store: SqliteReadStore;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-rs-snapshot-'));
    store = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
    store.collection('snap');
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('returns the documents of exactly the checkpoint it returns while another thread commits batches', async () => {
    const worker = new Worker(WRITER, { eval: true, workerData: { file: path.join(dir, 'read-models.db'), batches: 600 } });
    let done = false;
    const finished = new Promise<void>((resolve, reject) => {
      worker.on('message', () => resolve());
      worker.on('error', reject);
    }).then(() => (done = true));
    const checkpoints: bigint[] = [];
    const broken: string[] = [];
    while (!done) {
      const docs: Array<{ _id: string; v: number }> = [];
      const checkpoint = await store.readSnapshot<{ _id: string; v: number }>('p', 'snap', (d) => docs.push(d));
      const n = checkpoint < 0n ? 0 : Number(checkpoint);
      if (docs.length !== n || docs.some((d) => d.v !== n)) broken.push(`checkpoint ${n}: ${docs.length} documents, v in ${[...new Set(docs.map((d) => d.v))].join(',')}`);
      checkpoints.push(checkpoint);
      await new Promise((r) => setImmediate(r));
    }
    await finished;
    await worker.terminate();
    expect(broken).toEqual([]);
    // It did read while the writer was busy, at checkpoints between the first and the last.
    expect(new Set(checkpoints.filter((c) => c > 0n && c < 600n)).size).toBeGreaterThan(3);
    const docs: unknown[] = [];
    expect(await store.readSnapshot('p', 'snap', (d) => docs.push(d))).toBe(600n);
    expect(docs).toHaveLength(600);
  });
});
