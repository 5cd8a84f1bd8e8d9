import { ClientSession, Db, Filter as MongoFilter, MongoClient, Collection as MongoCollectionRaw, UpdateFilter } from 'mongodb';
import { BatchOutcome, BatchUnit, batchOutcome, Collection, Doc, Filter, FindOptions, Page, ProjectionBatch, ReadStore, Update } from '../port';
import { decodeCursor, encodeCursor, getPath } from '../document-update';

const CHECKPOINTS = 'projection_checkpoints';
const NAME = /^[a-z][a-z0-9_]{0,62}$/;

interface CheckpointDoc {
  _id: string;
  position: string;
  updated_at: Date;
}

/**
 * Read models in MongoDB (production). Each port collection is the MongoDB collection of the same name; filters,
 * sorts and updates map 1:1 to MongoDB's operators. A projection's batch runs in one multi-document transaction
 * (`session.withTransaction`) together with its checkpoint document in `projection_checkpoints` (`{_id: projection,
 * position}`), so a batch lands whole or not at all; the checkpoint read inside the transaction lets a second
 * instance skip what another already applied. Transactions need a replica set (docker-compose runs a one-node one).
 */
export class MongoReadStore implements ReadStore {
  private constructor(
    private readonly client: MongoClient,
    private readonly db: Db,
  ) {}

  /** Connects (the database is the one named in the URL, `tollgate` when none) and checks the server answers. */
  static async connect(url: string): Promise<MongoReadStore> {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    try {
      await client.connect();
      const store = new MongoReadStore(client, client.db(dbNameFrom(url)));
      await store.ping();
      return store;
    } catch (err) {
      await client.close().catch(() => undefined);
      const e = new Error(`Cannot reach MongoDB at ${url.replace(/\/\/[^@/]*@/, '//***@')}: ${(err as Error).message}`);
      e.name = 'StoreOpenError';
      throw e;
    }
  }

  collection<T extends Doc = Doc>(name: string, session?: ClientSession): Collection<T> {
    if (!NAME.test(name)) throw new Error(`Invalid collection name ${name}`);
    return new MongoCollection<T>(this.db.collection<T>(name) as unknown as MongoCollectionRaw<T>, name, session);
  }

  async drop(name: string): Promise<void> {
    if (!NAME.test(name)) throw new Error(`Invalid collection name ${name}`);
    // Empties it but keeps its indexes, as the SQLite adapter does.
    await this.db.collection(name).deleteMany({});
  }

  async getCheckpoint(projection: string, session?: ClientSession): Promise<bigint> {
    const doc = await this.db.collection<CheckpointDoc>(CHECKPOINTS).findOne({ _id: projection }, { session });
    return doc ? BigInt(doc.position) : -1n;
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
   */
  private async runUnits(units: Array<Omit<BatchUnit, 'after'> & { after?: bigint }>): Promise<Array<[string, BatchOutcome]>> {
    const session = this.client.startSession();
    let outcomes: Array<[string, BatchOutcome]> = [];
    try {
      await session.withTransaction(async () => {
        outcomes = []; // withTransaction may run this again after a transient error
        for (const { projection, position, after, apply } of units) {
          const checkpoint = await this.getCheckpoint(projection, session);
          const o = batchOutcome(checkpoint, { position, after });
          outcomes.push([projection, o]);
          if (o !== 'applied') continue;
          await apply({ collection: <T extends Doc>(n: string) => this.collection<T>(n, session) }, checkpoint);
          await this.db
            .collection<CheckpointDoc>(CHECKPOINTS)
            .updateOne({ _id: projection }, { $set: { position: position.toString(), updated_at: new Date() } }, { upsert: true, session });
        }
      });
    } finally {
      await session.endSession();
    }
    return outcomes;
  }

  /** Deletes the checkpoint document and empties the collections in one transaction. */
  async resetProjection(projection: string, collections: readonly string[]): Promise<void> {
    for (const c of collections) if (!NAME.test(c)) throw new Error(`Invalid collection name ${c}`);
    const session = this.client.startSession();
    try {
      await session.withTransaction(async () => {
        await this.db.collection<CheckpointDoc>(CHECKPOINTS).deleteOne({ _id: projection }, { session });
        for (const c of collections) await this.db.collection(c).deleteMany({}, { session });
      });
    } finally {
      await session.endSession();
    }
  }

  /**
   * A snapshot session (MongoDB 5.0+, replica set): its first read (the checkpoint's find) fixes a cluster time, and
   * every later read of the session, the collection's find and its getMores included, reads at that time. A batch
   * lands in one transaction, so the snapshot holds all of it with its checkpoint or none of it.
   */
  async readSnapshot<T extends Doc = Doc>(projection: string, collection: string, each: (doc: T) => void): Promise<bigint> {
    if (!NAME.test(collection)) throw new Error(`Invalid collection name ${collection}`);
    const session = this.client.startSession({ snapshot: true });
    try {
      const checkpoint = await this.getCheckpoint(projection, session);
      const cursor = this.db.collection(collection).find({}, { session, batchSize: 5000 });
      try {
        for await (const doc of cursor) each(doc as unknown as T);
      } finally {
        await cursor.close();
      }
      return checkpoint;
    } finally {
      await session.endSession();
    }
  }

  async resetCheckpoint(projection: string): Promise<void> {
    await this.db.collection<CheckpointDoc>(CHECKPOINTS).deleteOne({ _id: projection });
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

class MongoCollection<T extends Doc> implements Collection<T> {
  constructor(
    private readonly c: MongoCollectionRaw<T>,
    readonly name: string,
    private readonly session?: ClientSession,
  ) {}

  async get(id: string): Promise<T | null> {
    return (await this.c.findOne({ _id: id } as MongoFilter<T>, { session: this.session })) as T | null;
  }

  async find(filter: Filter = {}, options: FindOptions = {}): Promise<Page<T>> {
    const field = options.sort?.field ?? '_id';
    const dir = options.sort?.direction === 'desc' ? -1 : 1;
    const clauses: Record<string, unknown>[] = [toMongoFilter(filter)];
    if (options.cursor) {
      const [value, id] = decodeCursor(options.cursor);
      const op = dir === 1 ? '$gt' : '$lt';
      clauses.push(field === '_id' ? { _id: { [op]: id } } : { $or: [{ [field]: { [op]: value } }, { [field]: value, _id: { [op]: id } }] });
    }
    const limit = options.limit ?? 1000;
    const sort: Record<string, 1 | -1> = field === '_id' ? { _id: dir } : { [field]: dir, _id: dir };
    const docs = (await this.c
      .find({ $and: clauses } as MongoFilter<T>, { session: this.session })
      .sort(sort)
      .limit(limit + 1)
      .toArray()) as T[];
    const items = docs.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = docs.length > limit && last ? encodeCursor(field === '_id' ? last._id : getPath(last, field), last._id) : null;
    return { items, nextCursor };
  }

  async count(filter: Filter = {}): Promise<number> {
    return this.c.countDocuments(toMongoFilter(filter) as MongoFilter<T>, { session: this.session });
  }

  async put(doc: T): Promise<void> {
    await this.c.replaceOne({ _id: doc._id } as MongoFilter<T>, doc, { upsert: true, session: this.session });
  }

  async upsert(id: string, update: Update): Promise<void> {
    await this.c.updateOne({ _id: id } as MongoFilter<T>, toMongoUpdate(update) as UpdateFilter<T>, { upsert: true, session: this.session });
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.c.deleteOne({ _id: id } as MongoFilter<T>, { session: this.session });
    return r.deletedCount > 0;
  }

  async ensureIndex(fields: string[]): Promise<void> {
    await this.c.createIndex(Object.fromEntries(fields.map((f) => [f, 1])));
  }
}

/** The port's filter is a subset of MongoDB's query language: equality, $gt/$gte/$lt/$lte, $ne, $in. */
export function toMongoFilter(filter: Filter): Record<string, unknown> {
  return { ...filter };
}

/**
 * The port's update with MongoDB's operators. MongoDB refuses one path in two operators; the SQLite adapter lets
 * `set` (and the others) win over `setOnInsert`, so such a path is left out of $setOnInsert.
 */
export function toMongoUpdate(u: Update): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const taken = new Set([...Object.keys(u.set ?? {}), ...Object.keys(u.inc ?? {}), ...Object.keys(u.max ?? {}), ...Object.keys(u.min ?? {}), ...(u.unset ?? [])]);
  if (u.set && Object.keys(u.set).length) out.$set = u.set;
  if (u.inc && Object.keys(u.inc).length) out.$inc = u.inc;
  if (u.max && Object.keys(u.max).length) out.$max = u.max;
  if (u.min && Object.keys(u.min).length) out.$min = u.min;
  if (u.unset?.length) out.$unset = Object.fromEntries(u.unset.map((k) => [k, '']));
  const onInsert = Object.fromEntries(Object.entries(u.setOnInsert ?? {}).filter(([k]) => !taken.has(k)));
  if (Object.keys(onInsert).length) out.$setOnInsert = onInsert;
  // An empty update still creates the document ({_id}), as the SQLite adapter does.
  if (!Object.keys(out).length) out.$setOnInsert = {};
  return out;
}

function dbNameFrom(url: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url);
  return m?.[1] ? decodeURIComponent(m[1]) : 'tollgate';
}
