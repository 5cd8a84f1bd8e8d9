import { randomUUID } from 'crypto';
import { AnyBulkWriteOperation, ClientSession, Db, Document, MongoClient, MongoError, TransactionOptions, Collection as RawCollection } from 'mongodb';
import { BatchOutcome, BatchUnit, batchOutcome, blameProjection, Collection, Doc, Filter, FindOptions, markStoreFault, Page, ProjectionBatch, ReadStore, Update } from '../port';
import { checkField, decodeCursor, encodeCursor, getPath } from '../document-update';
import { Mutex } from '../../concurrency/mutex';
import { cursorFilter, isCallersFault, toMongoFilter, toMongoSort, toMongoUpdate, toStoredDoc } from './mongo-translate';

const CHECKPOINTS = 'projection_checkpoints';
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

interface CheckpointDoc {
  _id: string;
  position: string;
  updated_at: Date;
  /** Set while a reset empties the projection's collections in chunks: units of the projection are refused meanwhile. */
  resetting?: string;
}

export interface MongoReadStoreOptions {
  /**
   * Longest a unit's transaction may run (each attempt) before it is abandoned as the store's fault: below the
   * server's transactionLifetimeLimitSeconds (60 s), past which the server aborts it anyway. Default 30 s.
   */
  unitTimeLimitMs?: number;
  /** Documents deleted per round trip by a reset or a drop (outside any transaction). Default 1,000. */
  deleteChunk?: number;
  /** Writes a unit buffers before it sends them as one bulk write. Default 1,000. */
  bulkChunk?: number;
}

/**
 * Transactions read a snapshot and commit with a majority: a batch a primary acknowledged survives its failover. The
 * client's defaults (connect) are majority too, for reads and writes outside units; without them a PSA replica set
 * defaults to w:1 and an acknowledged reset or standalone write can be rolled back.
 */
const TRANSACTION: TransactionOptions = { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' };

/** MongoDB error codes of a snapshot read that may succeed when taken again: SnapshotTooOld (239), SnapshotUnavailable (246). */
const SNAPSHOT_RETRY_CODES = new Set([239, 246]);

/**
 * Read models in MongoDB (production). Each port collection is the MongoDB collection of the same name. Documents,
 * filters, sorts and updates are translated by mongo-translate.ts to mean what they mean on SQLite (the contract
 * suite runs the same cases on both). A projection's batch runs in one multi-document transaction
 * (`session.withTransaction`) with its checkpoint document in `projection_checkpoints` (`{_id: projection,
 * position}`), read inside the transaction, so a batch lands whole or not at all and a second instance skips what
 * another already applied. Transactions need a replica set: `connect` refuses a standalone server.
 *
 * As on SQLite, units of one store instance run one at a time, and a standalone write (through `collection()`)
 * waits for the unit in progress. Inside a unit, writes are buffered and sent as ordered bulk writes: before any read
 * of that collection in the unit, and at the unit's end, before its checkpoint.
 */
export class MongoReadStore implements ReadStore {
  /** Units, and standalone writes after them, one at a time in this instance (as the SQLite adapter's write lock). */
  readonly unitLock = new Mutex();
  private readonly unitTimeLimitMs: number;
  readonly deleteChunk: number;
  readonly bulkChunk: number;
  /** Indexes asked for inside units, created after their commit (and kept here until created). */
  private readonly indexQueue = new Map<string, { collection: string; fields: string[] }>();

  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
    options: MongoReadStoreOptions,
  ) {
    this.unitTimeLimitMs = options.unitTimeLimitMs ?? 30_000;
    this.deleteChunk = options.deleteChunk ?? 1000;
    this.bulkChunk = options.bulkChunk ?? 1000;
  }

  /**
   * Connects (the database is the one named in the URL, `tollgate` when none) and checks that the server is a
   * replica set member or a mongos of 5.0 or later: transactions need the one, snapshot reads the other.
   */
  static async connect(url: string, options: MongoReadStoreOptions = {}): Promise<MongoReadStore> {
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    const client = new MongoClient(url, {
      serverSelectionTimeoutMS: 10_000,
      // Documents are translated to their JSON before they are sent (toStoredDoc); this keeps an undefined that
      // slipped through from becoming null (the driver's default serialises undefined as null).
      ignoreUndefined: true,
      readConcern: { level: 'majority' },
      writeConcern: { w: 'majority' },
      readPreference: 'primary',
    });
    let hello: Document;
    try {
      await client.connect();
      hello = await client.db('admin').command({ hello: 1 });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw openError(`Cannot reach MongoDB at ${shown}: ${(err as Error).message}`, err);
    }
    const problem = topologyProblem(hello);
    if (problem) {
      await client.close().catch(() => undefined);
      throw openError(`MongoDB at ${shown} ${problem}`);
    }
    return new MongoReadStore(client, client.db(dbNameFrom(url)), options);
  }

  collection<T extends Doc = Doc>(name: string): Collection<T> {
    return new StandaloneCollection<T>(this, this.raw<T>(name), name);
  }

  raw<T extends Document = Doc>(name: string): RawCollection<T> {
    if (!NAME.test(name)) throw new Error(`Invalid collection name ${name}`);
    return this.db.collection<T>(name);
  }

  private get checkpoints(): RawCollection<CheckpointDoc> {
    return this.db.collection<CheckpointDoc>(CHECKPOINTS);
  }

  /** Empties the collection (keeping its indexes, as on SQLite) in chunks, after any unit in progress. */
  async drop(name: string): Promise<void> {
    const c = this.raw(name);
    await this.unitLock.run(() => storeCall(() => this.deleteAll(c)));
  }

  /**
   * Deletes every document, a chunk of ids at a time, each chunk one deleteMany outside any transaction: a whole
   * collection in one transaction fails past the 60 s lifetime or the cache limit of one transaction.
   */
  private async deleteAll(c: RawCollection<Doc>): Promise<void> {
    for (;;) {
      const ids = (await c.find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: this.deleteChunk }).toArray()).map((d) => d._id);
      if (!ids.length) return;
      await c.deleteMany({ _id: { $in: ids } });
    }
  }

  async getCheckpoint(projection: string): Promise<bigint> {
    return checkpointOf(await storeCall(() => this.checkpoints.findOne({ _id: projection })));
  }

  async applyBatch(projection: string, position: bigint, apply: (batch: ProjectionBatch, checkpoint: bigint) => Promise<void>, after?: bigint): Promise<BatchOutcome> {
    const [[, outcome]] = await this.runUnits([{ projection, position, after, apply }]);
    return outcome;
  }

  /** Several projections' batches in one transaction, each with its checkpoint document; returns the refused names. */
  async applyBatches(units: BatchUnit[]): Promise<string[]> {
    return (await this.runUnits(units)).filter(([, o]) => o === 'refused').map(([name]) => name);
  }

  /**
   * The checkpoint is read inside the transaction: a concurrent commit that moved it (another instance's batch, a
   * rebuild's reset) makes this transaction conflict and retry, so the continuity check holds at commit.
   * `withTransaction` calls the function again after a TransientTransactionError and retries a commit whose result is
   * unknown (driver: lib/sessions.js, withTransaction steps 7.2 and 10.1), within 120 s; any other error aborts it
   * and is thrown as it is (a handler's error unmarked, the store's marked by `markStoreFault`).
   */
  private async runUnits(units: Array<Omit<BatchUnit, 'after'> & { after?: bigint }>): Promise<Array<[string, BatchOutcome]>> {
    return this.unitLock.run(async () => {
      await this.createQueuedIndexes();
      const session = this.client.startSession();
      let outcomes: Array<[string, BatchOutcome]> = [];
      let indexes: Array<{ collection: string; fields: string[] }> = [];
      try {
        await session.withTransaction(async () => {
          outcomes = [];
          indexes = [];
          const deadline = Date.now() + this.unitTimeLimitMs;
          for (const { projection, position, after, apply } of units) {
            const doc = await storeCall(() => this.checkpoints.findOne({ _id: projection }, { session }));
            const checkpoint = checkpointOf(doc);
            // While a reset empties the collections chunk by chunk, nothing of the projection may land.
            const o: BatchOutcome = doc?.resetting ? 'refused' : batchOutcome(checkpoint, { position, after });
            outcomes.push([projection, o]);
            if (o !== 'applied') continue;
            const unit = new Unit(this, session, deadline);
            try {
              await apply(unit.batch(), checkpoint);
              await unit.flush(projection);
            } finally {
              unit.close();
            }
            indexes.push(...unit.indexes);
            unit.checkTime();
            await storeCall(() => this.checkpoints.updateOne({ _id: projection }, { $set: { position: position.toString(), updated_at: new Date() } }, { upsert: true, session }));
          }
        }, TRANSACTION);
      } finally {
        await session.endSession();
      }
      for (const ix of indexes) this.indexQueue.set(indexKey(ix.collection, ix.fields), ix);
      await this.createQueuedIndexes();
      return outcomes;
    });
  }

  /**
   * Creates the indexes units asked for, after their commit: createIndex is not part of a transaction here, and run
   * beside an open one it waits for the locks that transaction holds on a collection it created. One that fails stays
   * queued for the next unit.
   */
  private async createQueuedIndexes(): Promise<void> {
    for (const [key, { collection, fields }] of [...this.indexQueue]) {
      try {
        await createIndex(this.raw(collection), fields);
        this.indexQueue.delete(key);
      } catch {
        /* kept in the queue: the next unit tries again */
      }
    }
  }

  /**
   * Resets the checkpoint to -1 and empties the collections, in chunks, so that no other instance's batch lands in
   * between: first the checkpoint document is marked `resetting` (one write, which conflicts with any unit of the
   * projection in flight; units read the mark and are refused, and getCheckpoint reads -1), then each collection is
   * emptied chunk by chunk outside any transaction, then the mark is removed (-1: a replay from the start applies).
   * A reset that dies midway leaves the mark, so the projection's units are refused until a reset (the runner's start
   * or a rebuild, which see -1) runs again to its end.
   */
  async resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    const raws = collections.map((c) => this.raw(c));
    await this.unitLock.run(() =>
      storeCall(async () => {
        const token = randomUUID();
        await this.checkpoints.updateOne({ _id: projection }, { $set: { position: '-1', resetting: token, updated_at: new Date() } }, { upsert: true });
        for (const c of raws) await this.deleteAll(c);
        await this.checkpoints.deleteOne({ _id: projection, resetting: token });
      }),
    );
  }

  /**
   * A snapshot session (MongoDB 5.0+, replica set): its first read (the checkpoint's find) fixes a cluster time, and
   * every later read of the session, the collection's find and its getMores included, reads at that time. A batch
   * lands in one transaction, so the snapshot holds all of it with its checkpoint or none of it. A snapshot the
   * server cannot serve (SnapshotUnavailable just after a collection was created, SnapshotTooOld past
   * minSnapshotHistoryWindowInSeconds, 300 s) is taken again, up to 5 times: the documents are handed over only once
   * the read is complete, so a retried read hands none twice.
   */
  async readSnapshot<T extends Doc = Doc>(projection: string, collection: string, each: (doc: T) => void): Promise<bigint> {
    const raw = this.raw<T>(collection);
    for (let attempt = 1; ; attempt++) {
      const session = this.client.startSession({ snapshot: true });
      let read: { checkpoint: bigint; docs: T[] };
      try {
        const checkpoint = checkpointOf(await this.checkpoints.findOne({ _id: projection }, { session }));
        const docs = (await raw.find({}, { session, batchSize: 5000 }).toArray()) as T[];
        read = { checkpoint, docs };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt < 5 && typeof code === 'number' && SNAPSHOT_RETRY_CODES.has(code)) {
          await new Promise((r) => setTimeout(r, 50 * attempt));
          continue;
        }
        throw marked(err);
      } finally {
        await session.endSession();
      }
      for (const doc of read.docs) each(doc);
      return read.checkpoint;
    }
  }

  async resetCheckpoint(projection: string): Promise<void> {
    await this.unitLock.run(() => storeCall(() => this.checkpoints.deleteOne({ _id: projection })));
  }

  async ping(): Promise<void> {
    await storeCall(() => this.db.command({ ping: 1 }));
  }

  async close(): Promise<void> {
    await this.unitLock.run(() => this.client.close());
  }
}

/** What a collection does outside units: reads at once, writes after the unit in progress (as on SQLite). */
class StandaloneCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly store: MongoReadStore,
    private readonly c: RawCollection<T>,
    readonly name: string,
  ) {}

  async get(id: string): Promise<T | null> {
    return storeCall(() => this.c.findOne({ _id: id } as never) as Promise<T | null>);
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<Page<T>> {
    return findPage(this.c, filter, options);
  }

  async count(filter: Filter = {}): Promise<number> {
    const query = toMongoFilter(filter);
    return storeCall(() => this.c.countDocuments(query as never));
  }

  async put(doc: T): Promise<void> {
    const stored = toStoredDoc(doc);
    await this.store.unitLock.run(() => storeCall(() => this.c.replaceOne({ _id: doc._id } as never, stored, { upsert: true })));
  }

  async upsert(id: string, update: Update): Promise<void> {
    const u = toMongoUpdate(update);
    await this.store.unitLock.run(() => storeCall(() => this.c.updateOne({ _id: id } as never, u, { upsert: true })));
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.store.unitLock.run(() => storeCall(() => this.c.deleteOne({ _id: id } as never)));
    return r.deletedCount > 0;
  }

  async ensureIndex(fields: string[]): Promise<void> {
    for (const f of fields) checkField(f);
    await this.store.unitLock.run(() => storeCall(() => createIndex(this.c, fields)));
  }
}

/** One applied unit's view of the store: its collections write into the transaction, buffered into bulk writes. */
class Unit {
  private readonly pending = new Map<string, { raw: RawCollection<Doc>; ops: AnyBulkWriteOperation<Doc>[] }>();
  readonly indexes: Array<{ collection: string; fields: string[] }> = [];
  private open = true;

  constructor(
    private readonly store: MongoReadStore,
    private readonly session: ClientSession,
    private readonly deadline: number,
  ) {}

  /** A new object per unit (a projection may tell one batch from the next, a retried one too, by identity). */
  batch(): ProjectionBatch {
    return { collection: <T extends Doc>(name: string) => this.collection(name) as unknown as Collection<T> };
  }

  close(): void {
    this.open = false;
  }

  /** Past the unit's time limit, the unit is abandoned before the server's transaction lifetime ends it. */
  checkTime(): void {
    if (Date.now() > this.deadline) throw markStoreFault(new UnitTimeLimitError());
  }

  private check(name: string): void {
    if (!this.open) throw new Error(`A projection wrote to ${name} through its batch after the batch ended.`);
    this.checkTime();
  }

  private collection(name: string): Collection<Doc> {
    const raw = this.store.raw(name);
    const session = this.session;
    const queue = (op: AnyBulkWriteOperation<Doc>) => {
      let p = this.pending.get(name);
      if (!p) this.pending.set(name, (p = { raw, ops: [] }));
      p.ops.push(op);
      return p.ops.length >= this.store.bulkChunk ? this.flushCollection(name) : Promise.resolve();
    };
    return {
      name,
      get: async (id) => {
        this.check(name);
        await this.flushCollection(name);
        return storeCall(() => raw.findOne({ _id: id }, { session }));
      },
      find: async (filter, options) => {
        this.check(name);
        await this.flushCollection(name);
        return findPage(raw, filter, options, session);
      },
      count: async (filter = {}) => {
        this.check(name);
        const query = toMongoFilter(filter);
        await this.flushCollection(name);
        return storeCall(() => raw.countDocuments(query, { session }));
      },
      put: async (doc) => {
        this.check(name);
        await queue({ replaceOne: { filter: { _id: doc._id }, replacement: toStoredDoc(doc), upsert: true } });
      },
      upsert: async (id, update) => {
        this.check(name);
        await queue({ updateOne: { filter: { _id: id }, update: toMongoUpdate(update), upsert: true } });
      },
      delete: async (id) => {
        this.check(name);
        await this.flushCollection(name);
        const r = await storeCall(() => raw.deleteOne({ _id: id }, { session }));
        return r.deletedCount > 0;
      },
      ensureIndex: async (fields) => {
        this.check(name);
        for (const f of fields) checkField(f);
        this.indexes.push({ collection: name, fields });
      },
    };
  }

  /** Sends one collection's buffered writes as one ordered bulk write in the transaction. */
  private async flushCollection(name: string): Promise<void> {
    const p = this.pending.get(name);
    if (!p || !p.ops.length) return;
    const ops = p.ops.splice(0);
    await storeCall(() => p.raw.bulkWrite(ops, { session: this.session, ordered: true }));
  }

  /** The unit's remaining writes, before its checkpoint; a write MongoDB refuses (inc of a string) is the projection's. */
  async flush(projection: string): Promise<void> {
    try {
      for (const name of this.pending.keys()) await this.flushCollection(name);
    } catch (err) {
      throw blameProjection(err, projection);
    }
  }
}

async function findPage<T extends Doc>(c: RawCollection<T>, filter: Filter = {}, options: FindOptions = {}, session?: ClientSession): Promise<Page<T>> {
  const field = options.sort?.field ?? '_id';
  const direction = options.sort?.direction === 'desc' ? 'desc' : 'asc';
  const clauses: Record<string, unknown>[] = [toMongoFilter(filter)];
  if (options.cursor) {
    const [value, id] = decodeCursor(options.cursor);
    clauses.push(cursorFilter(field, direction, value, id));
  }
  const sort = toMongoSort(field, direction);
  const limit = options.limit ?? 1000;
  const docs = (await storeCall(() =>
    c
      .find({ $and: clauses } as never, { session })
      .sort(sort)
      .limit(limit + 1)
      .toArray(),
  )) as T[];
  const items = docs.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = docs.length > limit && last ? encodeCursor(field === '_id' ? last._id : getPath(last, field), last._id) : null;
  return { items, nextCursor };
}

function createIndex(c: RawCollection<any>, fields: string[]): Promise<string> {
  return c.createIndex(Object.fromEntries(fields.map((f) => [f, 1])));
}

function indexKey(collection: string, fields: string[]): string {
  return `${collection}:${fields.join(',')}`;
}

function checkpointOf(doc: CheckpointDoc | null): bigint {
  return doc && !doc.resetting ? BigInt(doc.position) : -1n;
}

/** A driver error that is not the caller's (a refused update, a bad value) is the store's: marked so. */
function marked(err: unknown): unknown {
  return err instanceof MongoError && !isCallersFault(err) ? markStoreFault(err) : err;
}

async function storeCall<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    throw marked(err);
  }
}

export class UnitTimeLimitError extends Error {
  constructor() {
    super('The read-store unit ran past its time limit (MongoReadStoreOptions.unitTimeLimitMs) and was abandoned');
    this.name = 'UnitTimeLimitError';
  }
}

/** Why this server cannot hold the read models, or null. From the `hello` reply: setName (replica set), msg (mongos). */
export function topologyProblem(hello: Document): string | null {
  if (!hello.setName && hello.msg !== 'isdbgrid')
    return 'is a standalone server: the read store needs a replica set (transactions). Start mongod with --replSet rs0, run rs.initiate() once, and use ?replicaSet=rs0 in MONGODB_URL (from outside its network add &directConnection=true).';
  if (typeof hello.maxWireVersion === 'number' && hello.maxWireVersion < 13) return 'is older than MongoDB 5.0: the read store needs snapshot reads (5.0 or later).';
  return null;
}

function openError(message: string, cause?: unknown): Error {
  const e = new Error(message, { cause });
  e.name = 'StoreOpenError';
  return e;
}

function dbNameFrom(url: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url);
  return m?.[1] ? decodeURIComponent(m[1]) : 'tollgate';
}
