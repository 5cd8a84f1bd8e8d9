/**
 * The SQLite event store's writer thread: owns its own write connection to the events file and commits the groups
 * of appends the main thread posts, one at a time, so the INSERTs and the COMMIT's fsync never block the main
 * thread's event loop. Loaded by sqlite-writer-thread.ts; needs only better-sqlite3, open-database and the appender.
 *
 * Protocol: workerData {file, sync}. Posts {type:'ready'} or {type:'open-failed', message}; then for each
 * {type:'commit', id, group} posts {type:'committed', id, result}; {type:'close'} closes the connection and ends.
 */
import { parentPort, workerData } from 'worker_threads';
import { describe, openDatabase, SyncMode } from '../../sqlite/open-database';
import { commitGroup, createAppender, EncodedAppend, ensureEventsSchema } from './sqlite-appender';

type Request = { type: 'commit'; id: number; group: EncodedAppend[] } | { type: 'close' };

const { file, sync, cacheKb = 16384 } = workerData as { file: string; sync?: SyncMode; cacheKb?: number };
const port = parentPort!;

let db: ReturnType<typeof openDatabase>;
let commit: ReturnType<typeof createAppender>;
try {
  db = openDatabase({ file, sync });
  // The writer touches the tables' right edges and the indexes it checks: a smaller page cache than a reader's.
  db.pragma(`cache_size = -${cacheKb}`);
  ensureEventsSchema(db);
  commit = createAppender(db);
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'open-failed', message: describe((err as { cause?: unknown }).cause ?? err) });
  port.close();
}

port.on('message', (msg: Request) => {
  if (msg.type === 'commit') {
    port.postMessage({ type: 'committed', id: msg.id, result: commitGroup(commit, msg.group) });
  } else if (msg.type === 'close') {
    try {
      db?.close();
    } finally {
      port.close();
    }
  }
});
