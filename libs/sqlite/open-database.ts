import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Durability of the embedded stores, stated once:
 * - WAL journal: readers never block the writer, and several processes may share the file.
 * - synchronous=FULL (default): every commit fsyncs the WAL, so an acknowledged event survives kill -9 *and*
 *   power loss. Group commit amortises the fsync over every append waiting in the same tick.
 *   `TOLLGATE_SQLITE_SYNC=normal` trades power-loss durability for speed (still safe against kill -9: the OS
 *   keeps the WAL pages a killed process wrote).
 * - busy_timeout: several processes take turns writing instead of failing with SQLITE_BUSY.
 */
export type SyncMode = 'full' | 'normal';

export interface OpenOptions {
  file: string;
  sync?: SyncMode;
  busyTimeoutMs?: number;
  readonly?: boolean;
  /**
   * At open, how long to wait for the write lock before reporting the database as locked. Another Tollgate process
   * sharing the file holds it for milliseconds; a process that holds it for seconds is a lock to report at start.
   */
  lockCheckMs?: number;
}

export class StoreOpenError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

/** Opens (creating if needed) a SQLite database in WAL mode; failures become a StoreOpenError naming the file and the cause. */
export function openDatabase(options: OpenOptions): Database.Database {
  const file = options.file;
  try {
    if (file !== ':memory:') {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (!options.readonly) fs.accessSync(path.dirname(file), fs.constants.W_OK);
    }
  } catch (err) {
    throw new StoreOpenError(`Cannot use the data directory ${path.dirname(file)} (set DATA_DIR to a writable directory): ${describe(err)}`, err);
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${(options.sync ?? 'full').toUpperCase()}`);
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -65536');
    db.pragma('temp_store = MEMORY');
    // Touch the schema so a corrupt or foreign file fails here, at start, rather than on the first request.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (!options.readonly && file !== ':memory:') takeWriteLockOnce(db, options.lockCheckMs ?? 3000, options.busyTimeoutMs ?? 10_000);
  } catch (err) {
    throw new StoreOpenError(`Cannot open the database ${file}: ${describe(err)}`, err);
  }
  return db;
}

/** Takes and releases the write lock, so a database locked by another program fails at start with a clear message. */
function takeWriteLockOnce(db: Database.Database, waitMs: number, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${waitMs}`);
  try {
    db.exec('BEGIN IMMEDIATE');
    db.exec('COMMIT');
  } finally {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  }
}

export function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const hints: Record<string, string> = {
    SQLITE_NOTADB: 'the file is not a SQLite database (corrupt, or another program wrote it)',
    SQLITE_CORRUPT: 'the database file is corrupt; restore it from a backup',
    SQLITE_FULL: 'the disk is full; free space and restart',
    SQLITE_BUSY: 'the database is locked by another process that holds it too long',
    SQLITE_LOCKED: 'the database is locked',
    SQLITE_CANTOPEN: 'the file cannot be opened (missing directory or no permission)',
    SQLITE_READONLY: 'the file is read-only',
    SQLITE_IOERR: 'an I/O error occurred (disk full or failing)',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'the file system is read-only',
    ENOTDIR: 'a part of the path is a file, not a directory',
    ENOSPC: 'the disk is full',
  };
  const hint = Object.entries(hints).find(([k]) => code.startsWith(k))?.[1];
  return hint ? `${hint} (${code}: ${e?.message ?? ''})` : `${e?.message ?? String(err)}`;
}
