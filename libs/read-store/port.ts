/**
 * The read store port: document collections for read models (SQLite embedded, MongoDB in production),
 * and checkpointed batches so a projection's changes and its checkpoint land together.
 */

export type Scalar = string | number | boolean | null;

/**
 * Equality on a field, or a range / membership operator. Fields are `[A-Za-z0-9_]` segments joined by dots ("a.b": a
 * path through objects; a path through an array is not supported). Values are strings, finite numbers, booleans or
 * null (anything else is refused); an operator or field given as undefined is ignored. Every adapter matches alike:
 * - types do not mix: `1` matches neither `true` nor `"1"`; a range matches values of its own type only (numbers,
 *   strings, or booleans with false < true); a range on null is refused;
 * - `null` (as a value, or in `$in`) matches null and a missing field; `$ne: v` matches whatever `v` does not;
 * - a field holding an array or object matches no equality or `$in` (and every `$ne`).
 * Not supported (the adapters differ; SQLite keeps such ranges to its indexes): a range over a field that holds arrays
 * or objects, or booleans beside numbers.
 */
export type FieldFilter = Scalar | { $gt?: Scalar; $gte?: Scalar; $lt?: Scalar; $lte?: Scalar; $ne?: Scalar; $in?: Scalar[] };
export type Filter = Record<string, FieldFilter>;

export interface FindOptions {
  /**
   * Field to sort by and its direction; `_id` breaks ties in the same direction. Null and missing values sort first
   * ascending and last descending, and page like any other value. A sort field should hold one type (plus null): the
   * order of strings against numbers is the same on every adapter (numbers first), that of booleans or arrays is not.
   */
  sort?: { field: string; direction: 'asc' | 'desc' };
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * An update of one document. `set` replaces the named (dotted) fields, `inc` adds to numeric fields
 * (missing counts as 0), `setOnInsert` applies only when the document is created, `unset` removes fields,
 * `max`/`min` keep the larger/smaller value (MongoDB's order of types: null < numbers < strings). An empty update
 * creates the document `{_id}` if it is missing. Refused (InvalidQueryError), on every adapter, as MongoDB refuses
 * them: two paths of which one is the other or its prefix (`set a` + `inc a.b`; the same path in `setOnInsert` and
 * another operator is allowed, the other wins), a path `_id`, `inc` of a present value that is not a number (null
 * too), a path through a present value that is not an object, and non-finite numbers.
 */
export interface Update {
  set?: Record<string, unknown>;
  inc?: Record<string, number>;
  setOnInsert?: Record<string, unknown>;
  unset?: string[];
  max?: Record<string, number | string>;
  min?: Record<string, number | string>;
}

/**
 * A document is stored as its JSON: what `JSON.stringify` makes of a value is what reads back (undefined fields are
 * absent, NaN and ±Infinity null, -0 is 0, a Date its ISO string; a bigint is refused). A unit may hand back a
 * document it holds as it was put until it is read again from the store.
 */
export type Doc = { _id: string } & Record<string, unknown>;

export interface Collection<T extends Doc = Doc> {
  readonly name: string;
  get(id: string): Promise<T | null>;
  find(filter?: Filter, options?: FindOptions): Promise<Page<T>>;
  count(filter?: Filter): Promise<number>;
  /** Replaces the whole document. */
  put(doc: T): Promise<void>;
  upsert(id: string, update: Update): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Declares an index on fields used by filters and sorts (idempotent). */
  ensureIndex(fields: string[]): Promise<void>;
}

/**
 * Writes made by a projection for one batch of events; applied with the checkpoint, atomically or idempotently.
 * Inside a batch an adapter may hand out the batch's own copy of a document (SQLite takes it from its cache or the
 * file once, and writes it once at the end, however many events change it): change a document you got only to put it
 * back, and do not change one after putting it unless you put it again. Write only through the batch's collections
 * while the batch runs: the store's own collections are for standalone writes, which wait for the batch in progress
 * to end (a projection that writes through them inside its unit waits for itself). A read through the store's own
 * collections while a unit is open may or may not see that unit's writes (SQLite shares the unit's connection;
 * MongoDB reads what is committed): read through the batch. `ensureIndex` through a batch takes effect with the
 * unit's commit. Each unit gets its own batch object, so a projection may tell one batch from the next (a retried one
 * too) by identity.
 */
export interface ProjectionBatch {
  collection<T extends Doc = Doc>(name: string): Collection<T>;
}

/**
 * One projection's part of a multi-projection unit (see `ReadStore.applyBatches`).
 *
 * Continuity: `after` is the position up to which the caller has accounted for every event of the projection's
 * types (the batch holds every such event in (after, position]). A unit is applied only when the stored checkpoint
 * is at or past `after` (nothing between the checkpoint and the batch is missing); when the checkpoint is behind it
 * (a rebuild elsewhere reset it, or another follower is behind us) the unit is REFUSED: nothing written, and the
 * caller must re-follow from the stored checkpoint. A unit at or below the checkpoint is skipped as before.
 */
export interface BatchUnit {
  projection: string;
  position: bigint;
  after: bigint;
  apply: (batch: ProjectionBatch, checkpoint: bigint) => Promise<void>;
}

/** What became of a unit: written with its checkpoint, skipped (covered by the checkpoint), or refused (a gap). */
export type BatchOutcome = 'applied' | 'skipped' | 'refused';

/** The continuity rule both adapters apply inside their unit, with the checkpoint read in that unit. */
export function batchOutcome(checkpoint: bigint, unit: { position: bigint; after?: bigint }): BatchOutcome {
  if (unit.position <= checkpoint) return 'skipped';
  if (unit.after !== undefined && checkpoint < unit.after) return 'refused';
  return 'applied';
}

export interface ReadStore {
  collection<T extends Doc = Doc>(name: string): Collection<T>;
  /** Removes every document of the collection. */
  drop(name: string): Promise<void>;
  getCheckpoint(projection: string): Promise<bigint>;
  /**
   * Runs `apply` and moves the projection's checkpoint to `position`, as one unit: on SQLite one
   * transaction; on MongoDB a transaction. `apply` receives the checkpoint stored when the unit began;
   * it must skip events at or below it (another instance may have got there first). With `after` (see BatchUnit),
   * the unit is refused unless the stored checkpoint is at or past it; without it no continuity is checked.
   */
  applyBatch(projection: string, position: bigint, apply: (batch: ProjectionBatch, checkpoint: bigint) => Promise<void>, after?: bigint): Promise<BatchOutcome>;
  /**
   * Optional: several projections' batches as ONE unit (one transaction), each with its own checkpoint, with the
   * semantics of `applyBatch` for each (a unit at or below its stored checkpoint is skipped, a unit that does not
   * continue from it is refused, the others are applied). All applied ones land or none. Returns the names of the
   * refused projections.
   */
  applyBatches?(units: BatchUnit[]): Promise<string[]>;
  /**
   * Optional: resets the projection's checkpoint to -1 and empties its collections so that no other instance's batch
   * lands between the two (a rebuild's start): on SQLite one transaction; on MongoDB the checkpoint is fenced (the
   * projection's units are refused and its checkpoint reads -1) while the collections are emptied in chunks outside
   * any transaction. Without it the runner resets, then drops.
   */
  resetProjection?(projection: string, collections: readonly string[]): Promise<void>;
  resetCheckpoint(projection: string): Promise<void>;
  /**
   * Optional: one projection's checkpoint and every document of one of its collections, read as ONE consistent view
   * (on SQLite a read transaction, on MongoDB a snapshot session): the documents are exactly those committed with that
   * checkpoint, never half of a batch. `each` gets every document (in no particular order) and must not call the
   * store; the checkpoint is returned once all were handed over (-1n: never projected, or reset for a rebuild). On an
   * error part of the documents may have been handed over already: the caller discards what it built.
   */
  readSnapshot?<T extends Doc = Doc>(projection: string, collection: string, each: (doc: T) => void): Promise<bigint>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const READ_STORE = Symbol('READ_STORE');

const STORE_FAULT = Symbol('tollgate.readStoreFault');
const BLAMED = Symbol('tollgate.readStoreBlamed');

/**
 * Marks an error as the store's (unreachable, timed out, a conflict or I/O error), not the caller's: the same batch
 * may succeed when tried again. Adapters mark what their driver raises; the projection runner retries such a batch
 * instead of failing the projection. Returns the same error (labels and all: the MongoDB driver retries on them).
 */
export function markStoreFault<E>(err: E): E {
  if (err !== null && typeof err === 'object') (err as any)[STORE_FAULT] = true;
  return err;
}

export function isStoreFault(err: unknown): boolean {
  return err !== null && typeof err === 'object' && (err as any)[STORE_FAULT] === true;
}

/**
 * Names the projection whose unit's documents caused an error the store raised after its `apply` returned (a value
 * with no JSON form, an update the server refused when the unit's writes were sent): that projection's fault.
 */
export function blameProjection<E>(err: E, projection: string): E {
  if (err !== null && typeof err === 'object' && !isStoreFault(err)) (err as any)[BLAMED] = projection;
  return err;
}

export function blamedProjection(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' ? (err as any)[BLAMED] : undefined;
}
