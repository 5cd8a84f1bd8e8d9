import type Database from 'better-sqlite3';
import { openDatabase, SyncMode, describe } from '../../sqlite/open-database';
import { BatchOutcome, BatchUnit, batchOutcome, blameProjection, Collection, Doc, Filter, FindOptions, markStoreFault, Page, ProjectionBatch, ReadStore, Scalar, Update } from '../port';
import { applyUpdate, checkField, decodeCursor, encodeCursor, parseFilter } from '../document-update';
import { Mutex } from '../../concurrency/mutex';
import { crashPoint } from '../../faults/crash-point';

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** Committed documents a collection keeps in memory for projection units (most recently used). */
const COMMITTED_CACHE_LIMIT = 20_000;
/**
 * Under test (NODE_ENV=test), a cached document is checked against the JSON it was written as each time a unit takes
 * it: a projection that changed a document outside its unit (one it kept from an earlier batch) fails loudly.
 */
const CHECK_CACHE = process.env.NODE_ENV === 'test';

/**
 * Read models in SQLite: one table per collection (`rm_<name>`: id, JSON document), filters and sorts through
 * json_extract, indexes as expression indexes. A projection's batch and its checkpoint commit in one transaction.
 */
export class SqliteReadStore implements ReadStore {
  readonly db: Database.Database;
  private readonly collections = new Map<string, SqliteCollection<any>>();
  /** One writer at a time in this process: a batch's transaction spans awaits, so standalone writes wait for it. */
  readonly writeLock = new Mutex();

  constructor(options: { file: string; sync?: SyncMode }) {
    this.db = openDatabase({ file: options.file, sync: options.sync ?? 'normal' });
    this.db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_at TEXT NOT NULL)`);
    // Read models are rebuilt from the log: checkpoint the WAL into the file less often (every ~40 MB, not ~4 MB),
    // so a page that many units rewrite is copied and synced once.
    this.db.pragma('wal_autocheckpoint = 10000');
    this.dataVersion = this.db.prepare('PRAGMA data_version').pluck();
    this.checkpointGet = this.db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').safeIntegers(true);
    this.checkpointSet = this.db.prepare(
      'INSERT INTO projection_checkpoints (name, position, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at',
    );
  }

  private readonly checkpointGet: Database.Statement;
  private readonly checkpointSet: Database.Statement;
  private readonly statements = new Map<string, Database.Statement>();

  /** A prepared statement per SQL text, prepared once. */
  prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size > 500) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    let c = this.collections.get(name);
    if (!c) {
      if (!NAME.test(name)) throw new Error(`Invalid collection name ${name}`);
      c = new SqliteCollection<T>(this, name);
      this.collections.set(name, c);
    }
    return c as Collection<T>;
  }

  async drop(name: string): Promise<void> {
    await this.writeLock.run(async () => {
      this.collection(name);
      this.prepared(`DELETE FROM rm_${name}`).run();
      this.collections.get(name)?.forgetCommitted();
    });
  }

  async getCheckpoint(projection: string): Promise<bigint> {
    const row = this.checkpointGet.get(projection) as { position: bigint } | undefined;
    return row ? row.position : -1n;
  }

  async resetCheckpoint(projection: string): Promise<void> {
    await this.writeLock.run(async () => {
      this.prepared('DELETE FROM projection_checkpoints WHERE name = ?').run(projection);
    });
  }

  /**
   * A read transaction on this connection (WAL: one snapshot from its first read to COMMIT), taken under the write
   * lock, so no unit of this connection is open (its uncommitted writes would be visible, and BEGIN would fail), and
   * run synchronously, so nothing else on this thread uses the connection meanwhile. Another connection's commit (the
   * projection worker's) lands before or after the snapshot, never inside it.
   */
  async readSnapshot<T extends Doc = Doc>(projection: string, collection: string, each: (doc: T) => void): Promise<bigint> {
    return this.writeLock.run(async () => {
      this.collection(collection);
      const docs = this.prepared(`SELECT doc FROM rm_${collection}`).pluck();
      this.db.exec('BEGIN');
      try {
        const row = this.checkpointGet.get(projection) as { position: bigint } | undefined;
        for (const json of docs.iterate() as IterableIterator<string>) each(JSON.parse(json) as T);
        this.db.exec('COMMIT');
        return row ? row.position : -1n;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  async applyBatch(projection: string, position: bigint, apply: (batch: ProjectionBatch, checkpoint: bigint) => Promise<void>, after?: bigint): Promise<BatchOutcome> {
    let outcome: BatchOutcome = 'skipped';
    await this.runUnits([{ projection, position, after, apply }], (_, o) => (outcome = o));
    return outcome;
  }

  /** Resets the checkpoint and empties the collections in one transaction (no other unit lands in between). */
  async resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    await this.writeLock.run(async () => {
      for (const c of collections) this.collection(c);
      this.db.exec('BEGIN IMMEDIATE');
      try {
        this.prepared('DELETE FROM projection_checkpoints WHERE name = ?').run(projection);
        for (const c of collections) this.prepared(`DELETE FROM rm_${c}`).run();
        this.db.exec('COMMIT');
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        for (const c of collections) this.collections.get(c)?.forgetCommitted();
      }
    });
  }

  /** Every unit's writes and checkpoint in one transaction; returns the projections whose unit was refused. */
  async applyBatches(units: BatchUnit[]): Promise<string[]> {
    const refused: string[] = [];
    await this.runUnits(units, (name, o) => (o === 'refused' ? refused.push(name) : undefined));
    return refused;
  }

  private async runUnits(units: Array<Omit<BatchUnit, 'after'> & { after?: bigint }>, outcome: (projection: string, o: BatchOutcome) => void): Promise<void> {
    const outcomes: Array<[string, BatchOutcome]> = [];
    await this.writeLock.run(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        // Another connection's commit since our last unit makes the committed-document caches stale.
        const version = this.dataVersion.get() as number;
        if (version !== this.lastDataVersion) {
          for (const c of this.collections.values()) c.forgetCommitted();
          this.lastDataVersion = version;
        }
        this.inUnitTx = true;
        const now = new Date().toISOString();
        for (const { projection, position, after, apply } of units) {
          // Read in this transaction (BEGIN IMMEDIATE: no other connection writes until COMMIT).
          const checkpoint = await this.getCheckpoint(projection);
          const o = batchOutcome(checkpoint, { position, after });
          outcomes.push([projection, o]);
          if (o !== 'applied') continue;
          this.unitOpen = true;
          try {
            await apply(this.unitBatch(), checkpoint);
            try {
              this.flushUnit();
            } catch (err) {
              // A document with no JSON form (a bigint) is the projection's; an SQLite error is the store's.
              throw sqliteFault(err) ?? blameProjection(err, projection);
            }
          } finally {
            this.unitOpen = false;
            for (const c of this.collections.values()) c.discardUnit();
          }
          crashPoint('after-read-model-write-before-checkpoint');
          this.checkpointSet.run(projection, position, now);
        }
        this.db.exec('COMMIT');
        this.inUnitTx = false;
        for (const c of this.collections.values()) c.committedUnitTx();
      } catch (err) {
        this.inUnitTx = false;
        for (const c of this.collections.values()) c.rolledBackUnitTx();
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw sqliteFault(err) ?? err;
      }
    });
    for (const [projection, o] of outcomes) outcome(projection, o);
  }

  /** True inside applyBatches' transaction (the write lock held and no other connection can commit). */
  inUnitTx = false;
  private lastDataVersion = -1;
  private readonly dataVersion: Database.Statement;

  /**
   * True while a projection's unit runs (the write lock is held): collections keep the unit's writes in memory (a
   * get after a put is served from it, a document is written once) and write them before the checkpoint.
   */
  unitOpen = false;

  private flushUnit(): void {
    for (const c of this.collections.values()) c.flushUnit();
  }

  /**
   * What a unit's projection writes through: each collection's batch view, which writes into the open unit (the unit
   * holds the write lock). A collection from `collection()` is for standalone writes: they wait for the lock, so a
   * projection that wrote through one inside its unit would wait for itself.
   */
  private unitBatch(): ProjectionBatch {
    // A new object per unit, though the views are shared: a projection tells one batch from the next by identity (the
    // usage summaries drop what a failed attempt left pending; one shared object made a retried batch count twice).
    return { collection: <T extends Doc>(n: string) => (this.collection<T>(n) as SqliteCollection<T>).batchView };
  }

  /** Runs a standalone write under the process's write lock (after any unit in progress). */
  write<T>(fn: () => T): Promise<T> {
    return this.writeLock.run(async () => fn());
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    await this.writeLock.run(async () => {
      if (this.db.open) this.db.close();
    });
  }

  describeError(err: unknown): string {
    return describe(err);
  }
}

class SqliteCollection<T extends Doc> implements Collection<T> {
  private readonly table: string;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly delStmt: Database.Statement;

  /** The collection as a unit's projection sees it: writes go into the open unit, without the lock it holds. */
  readonly batchView: Collection<T>;

  constructor(private readonly store: SqliteReadStore, readonly name: string) {
    this.table = `rm_${name}`;
    // An SQLite error raised here is the store's (busy, I/O, full disk): marked so, the runner retries the batch
    // rather than blaming the projection whose handler happened to call.
    this.batchView = {
      name,
      get: async (id) => storeCall(() => this.getSync(id)),
      find: (filter, options) => this.find(filter, options).catch(rethrowFault),
      count: (filter) => this.count(filter).catch(rethrowFault),
      ensureIndex: (fields) => this.ensureIndex(fields).catch(rethrowFault),
      put: async (doc) => this.inUnit(() => storeCall(() => this.putDoc(doc._id, doc))),
      upsert: async (id, update) => this.inUnit(() => storeCall(() => this.putDoc(id, applyUpdate(this.getSync(id), id, update) as T))),
      delete: async (id) => this.inUnit(() => storeCall(() => this.deleteDoc(id))),
    };
    store.db.exec(`CREATE TABLE IF NOT EXISTS ${this.table} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
    this.getStmt = store.db.prepare(`SELECT doc FROM ${this.table} WHERE id = ?`);
    this.putStmt = store.db.prepare(`INSERT INTO ${this.table} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`);
    this.delStmt = store.db.prepare(`DELETE FROM ${this.table} WHERE id = ?`);
  }

  /**
   * The open unit's documents by id, as objects (null: deleted): a get in the unit returns the unit's own object
   * (parsed once, however many events change it), a put keeps the object, and each changed document is serialised
   * and written once, at the unit's end. `read`: the unit read it before writing (a document projections read back,
   * worth keeping in the committed cache; a put-only one, like a log line, is not).
   */
  private unit = new Map<string, { doc: T | null; dirty: boolean; read: boolean }>();

  async get(id: string): Promise<T | null> {
    return this.getSync(id);
  }

  getSync(id: string): T | null {
    if (this.store.inUnitTx) {
      const own = this.store.unitOpen ? this.unit.get(id) : undefined;
      if (own) return own.doc;
      let doc = this.txWritten.get(id);
      if (doc === undefined) doc = this.committed.get(id);
      if (doc === undefined) {
        const row = this.getStmt.get(id) as { doc: string } | undefined;
        doc = row ? (JSON.parse(row.doc) as T) : null;
        // Not written in this transaction, so what the file holds is committed: keep it for the next units.
        this.remember(id, doc, row ? row.doc : null);
      } else if (CHECK_CACHE) this.checkCached(id, doc);
      // A read between units gets its own copy: only a unit may change the cache's object (and then writes it).
      if (!this.store.unitOpen) return doc === null ? null : (JSON.parse(JSON.stringify(doc)) as T);
      this.unit.set(id, { doc, dirty: false, read: true });
      return doc;
    }
    const row = this.getStmt.get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as T) : null;
  }

  /**
   * Committed documents (null for none) read or written by units, as objects, valid while no other connection
   * committed (the store checks SQLite's data_version at each unit) and kept for the most recently used ids. A unit
   * takes the cache's own object, not a parse of its JSON (a parse of each user's documents at every batch was a
   * sixth of the projection worker's time, and the copies it made lived through the batch into the old generation).
   * So the cache holds only what the file holds: a document a unit wrote (the object it serialised), or one it read
   * and did not change. A unit may change what it takes, so a document it took and did not write leaves the cache,
   * and a transaction that rolls back empties it.
   */
  private readonly committed = new Map<string, T | null>();
  /** Written by the running unit transaction, not yet committed. */
  private readonly txWritten = new Map<string, T | null>();
  /** Under test: the JSON each cached document was read or written as. */
  private readonly cachedJson = new Map<string, string | null>();

  private remember(id: string, doc: T | null, json?: string | null): void {
    this.committed.delete(id);
    this.committed.set(id, doc);
    if (CHECK_CACHE && json !== undefined) this.cachedJson.set(id, json);
    if (this.committed.size > COMMITTED_CACHE_LIMIT) {
      for (const k of this.committed.keys()) {
        this.committed.delete(k);
        this.cachedJson.delete(k);
        if (this.committed.size <= COMMITTED_CACHE_LIMIT) break;
      }
    }
  }

  private checkCached(id: string, doc: T | null): void {
    const json = doc === null ? null : JSON.stringify(doc);
    if (this.cachedJson.has(id) && this.cachedJson.get(id) !== json)
      throw new Error(`${this.name}/${id} was changed in the read store's cache outside a unit: a projection kept a document past its batch and changed it`);
  }

  forgetCommitted(): void {
    this.committed.clear();
    this.cachedJson.clear();
  }

  committedUnitTx(): void {
    for (const [id, doc] of this.txWritten) this.remember(id, doc);
    this.txWritten.clear();
  }

  /** The units may have changed cached objects before the rollback: none of them is trusted any more. */
  rolledBackUnitTx(): void {
    this.txWritten.clear();
    this.forgetCommitted();
  }

  /** Writes the open unit's changed documents (each once); called before the checkpoint and before any query of the table. */
  flushUnit(): void {
    if (!this.unit.size) return;
    for (const [id, { doc, dirty, read }] of this.unit) {
      if (!dirty) {
        // Taken from the cache and maybe changed, but not written: the file still has the old one.
        if (read) this.forgetWritten(id);
        continue;
      }
      const json = doc === null ? null : JSON.stringify(doc);
      if (json === null) this.delStmt.run(id);
      else this.putStmt.run(id, json);
      if (read || this.committed.has(id) || this.txWritten.has(id)) {
        this.txWritten.set(id, doc);
        if (CHECK_CACHE) this.cachedJson.set(id, json);
      }
    }
    this.unit.clear();
  }

  discardUnit(): void {
    this.unit.clear();
  }

  /** Inside a unit, keeps the object (serialised at the unit's end); outside, writes it now. */
  private putDoc(id: string, doc: T | null): void {
    if (this.store.unitOpen) {
      this.unit.set(id, { doc, dirty: true, read: this.unit.get(id)?.read ?? false });
      return;
    }
    if (doc === null) this.delStmt.run(id);
    else this.putStmt.run(id, JSON.stringify(doc));
    this.forgetWritten(id);
  }

  /** A write outside a unit: the caches no longer know this id. */
  private forgetWritten(id: string): void {
    this.committed.delete(id);
    this.txWritten.delete(id);
    this.cachedJson.delete(id);
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<Page<T>> {
    this.flushUnit();
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const sortField = options.sort?.field ?? '_id';
    const desc = options.sort?.direction === 'desc';
    const sortExpr = sortField === '_id' ? 'id' : jsonPath(sortField);
    if (options.cursor) {
      const [value, id] = decodeCursor(options.cursor);
      const op = desc ? '<' : '>';
      if (sortField === '_id') {
        where.push(`id ${op} ?`);
        params.push(id);
      } else if (value === null) {
        // Nulls (and missing values) sort first ascending, last descending.
        where.push(desc ? `(${sortExpr} IS NULL AND id < ?)` : `((${sortExpr} IS NULL AND id > ?) OR ${sortExpr} IS NOT NULL)`);
        params.push(id);
      } else {
        where.push(`(${sortExpr} ${op} ? OR (${sortExpr} = ? AND id ${op} ?)${desc ? ` OR ${sortExpr} IS NULL` : ''})`);
        params.push(sqlValue(value), sqlValue(value), id);
      }
    }
    const limit = options.limit ?? 1000;
    const dir = desc ? 'DESC' : 'ASC';
    const sql = `SELECT id, doc FROM ${this.table} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${sortField === '_id' ? 'id ' + dir : `${sortExpr} ${dir}, id ${dir}`} LIMIT ?`;
    const rows = this.store.prepared(sql).all(...params.map(sqlValue), limit + 1) as Array<{ id: string; doc: string }>;
    const more = rows.length > limit;
    const items = rows.slice(0, limit).map((r) => JSON.parse(r.doc) as T);
    const last = items[items.length - 1];
    const nextCursor = more && last ? encodeCursor(sortField === '_id' ? last._id : getField(last, sortField), last._id) : null;
    return { items, nextCursor };
  }

  async count(filter: Filter = {}): Promise<number> {
    this.flushUnit();
    const params: unknown[] = [];
    const where = this.where(filter, params);
    const row = this.store.prepared(`SELECT count(*) AS n FROM ${this.table} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}`).get(...params.map(sqlValue)) as { n: number };
    return row.n;
  }

  async put(doc: T): Promise<void> {
    await this.store.write(() => this.putDoc(doc._id, doc));
  }

  async upsert(id: string, update: Update): Promise<void> {
    await this.store.write(() => this.putDoc(id, applyUpdate(this.getSync(id), id, update) as T));
  }

  async delete(id: string): Promise<boolean> {
    return this.store.write(() => this.deleteDoc(id));
  }

  private deleteDoc(id: string): boolean {
    if (!this.store.unitOpen) {
      this.forgetWritten(id);
      return this.delStmt.run(id).changes > 0;
    }
    const existed = this.getSync(id) !== null;
    this.putDoc(id, null);
    return existed;
  }

  /** A batch view's write: only while its unit is open (a view kept past its batch would write outside any unit). */
  private inUnit<R>(fn: () => R): R {
    if (!this.store.unitOpen) throw new Error(`A projection wrote to ${this.name} through its batch after the batch ended.`);
    return fn();
  }

  async ensureIndex(fields: string[]): Promise<void> {
    for (const f of fields) if (f !== '_id') checkField(f);
    this.flushUnit();
    const name = `ix_${this.name}_${fields.map((f) => f.replace(/[^a-z0-9]/gi, '_')).join('__')}`.slice(0, 120);
    const exprs = fields.map((f) => (f === '_id' ? 'id' : jsonPath(f))).join(', ');
    this.store.db.exec(`CREATE INDEX IF NOT EXISTS ${name} ON ${this.table} (${exprs})`);
  }

  /**
   * The port's filter in SQL (see FieldFilter for the rules). json_extract gives JSON true/false as 1/0 and an array or
   * object as its JSON text, and SQLite orders numbers before text: an equality that could meet another type (a
   * boolean, 0 or 1, a string that looks like JSON) is guarded by json_type after the json_extract term, so an
   * expression index still narrows it; ranges stay within their type by bounds alone (see rangeClause).
   */
  private where(filter: Filter, params: unknown[]): string[] {
    const clauses: string[] = [];
    for (const c of parseFilter(filter)) {
      const f: Field = c.field === '_id' ? { expr: 'id', type: null } : { expr: jsonPath(c.field), type: `json_type(doc, '$.${c.field}')` };
      if (c.op === 'eq') clauses.push(eqClause(f, c.value, params));
      else if (c.op === 'ne') clauses.push(c.value === null ? `${f.expr} IS NOT NULL` : `(${f.expr} IS NULL OR NOT ${eqClause(f, c.value, params)})`);
      else if (c.op === 'in') clauses.push(inClause(f, c.value, params));
      else clauses.push(rangeClause(f, RANGE[c.op], c.value as string | number | boolean, params));
    }
    return clauses;
  }
}

const RANGE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

interface Field {
  expr: string;
  /** json_type of the field (null for the id column, always text). */
  type: string | null;
}

function eqClause(f: Field, v: Scalar, params: unknown[]): string {
  if (v === null) return `${f.expr} IS NULL`;
  if (!f.type) {
    params.push(v);
    return `${f.expr} = ?`;
  }
  params.push(sqlValue(v));
  if (typeof v === 'boolean') return `(${f.expr} = ? AND ${f.type} = '${v}')`;
  // 0 and 1 are also what json_extract makes of false and true; "[..." or "{..." what it makes of an array or object.
  if (typeof v === 'number') return v === 0 || v === 1 ? `(${f.expr} = ? AND ${f.type} NOT IN ('true', 'false'))` : `${f.expr} = ?`;
  return v.startsWith('[') || v.startsWith('{') ? `(${f.expr} = ? AND ${f.type} = 'text')` : `${f.expr} = ?`;
}

function rangeClause(f: Field, op: string, v: string | number | boolean, params: unknown[]): string {
  params.push(sqlValue(v));
  if (!f.type) return `${f.expr} ${op} ?`;
  // SQLite orders NULL < numbers < text, so a bound at '' keeps a range within numbers or within text and leaves the
  // whole condition to an expression index (a json_type guard would parse each candidate's JSON: a page of the usage
  // log took 50% longer). What stays outside the port's rules here is documented on FieldFilter: booleans in a
  // numeric range (json_extract gives 1/0), arrays and objects in a string range (their JSON text).
  if (typeof v === 'number') return `(${f.expr} ${op} ? AND ${f.expr} < '')`;
  if (typeof v === 'string') return op === '<' || op === '<=' ? `(${f.expr} ${op} ? AND ${f.expr} >= '')` : `${f.expr} ${op} ?`;
  return `(${f.expr} ${op} ? AND ${f.type} IN ('true', 'false'))`;
}

function inClause(f: Field, values: Scalar[], params: unknown[]): string {
  if (!values.length) return '0';
  const parts: string[] = [];
  const plain = values.filter((v) => v !== null && (f.type ? typeof v === 'string' ? !v.startsWith('[') && !v.startsWith('{') : typeof v === 'number' && v !== 0 && v !== 1 : true));
  const guarded = values.filter((v) => v !== null && !plain.includes(v));
  if (plain.length) {
    parts.push(plain.length === 1 ? `${f.expr} = ?` : `${f.expr} IN (${plain.map(() => '?').join(', ')})`);
    params.push(...plain);
  }
  for (const v of guarded) parts.push(eqClause(f, v, params));
  // As for equality, null in $in matches null and a missing field.
  if (values.includes(null)) parts.push(`${f.expr} IS NULL`);
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

function jsonPath(field: string): string {
  return `json_extract(doc, '$.${checkField(field)}')`;
}

/** Marks an SQLite error (busy, I/O, full) as the store's fault; undefined for any other error. */
function sqliteFault(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? markStoreFault(err) : undefined;
}

function storeCall<R>(fn: () => R): R {
  try {
    return fn();
  } catch (err) {
    throw sqliteFault(err) ?? err;
  }
}

function rethrowFault(err: unknown): never {
  throw sqliteFault(err) ?? err;
}

function sqlValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

function getField(doc: unknown, path: string): unknown {
  let cur: any = doc;
  for (const p of path.split('.')) cur = cur?.[p];
  return cur;
}
