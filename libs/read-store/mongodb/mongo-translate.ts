import { Doc, Filter, Scalar, Update } from '../port';
import { checkField, checkUpdate, Condition, InvalidQueryError, parseFilter } from '../document-update';

/**
 * The port's documents, filters, sorts and updates as MongoDB documents: pure, so it is tested without a server
 * (mongo-translate.spec.ts). The rules are the port's (see FieldFilter, Update, Doc), read by the shared
 * `parseFilter`/`checkUpdate`, so a filter or update refused on SQLite is refused here too, before it is sent.
 */

/**
 * A document as its JSON reads back, the way SQLite stores it: undefined fields absent, NaN and ±Infinity null, -0
 * as 0, a Date its ISO string; a bigint throws (TypeError, as JSON.stringify does on SQLite). BSON would keep NaN,
 * -0 and Dates and turn undefined into null (the driver's `ignoreUndefined` is false by default).
 */
export function toStoredDoc<T extends Doc>(doc: T): T {
  return JSON.parse(JSON.stringify(doc)) as T;
}

/** One value as its JSON reads back; undefined for undefined (a `set` of undefined removes the field, as on SQLite). */
function storedValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  if (typeof v === 'bigint') throw new InvalidQueryError(`${v}n: a bigint has no JSON form (store it as a string)`);
  const json = JSON.stringify(v);
  return json === undefined ? undefined : JSON.parse(json);
}

/** A field that holds an array matches no comparison (MongoDB would compare its elements; SQLite compares JSON text). */
function notArray(field: string): Record<string, unknown> {
  return { [field]: { $not: { $type: 'array' } } };
}

const MONGO_OP = { gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte' } as const;

/**
 * One equality: MongoDB's `{f: null}` matches null and missing, as the port says; types do not mix in MongoDB's
 * comparisons (BSON type brackets), so 1 matches neither true nor "1", as the port says.
 */
function eq(field: string, value: Scalar): Record<string, unknown> {
  if (field === '_id') return { _id: { $eq: value } };
  return { $and: [{ [field]: { $eq: value } }, notArray(field)] };
}

/**
 * The port's filter as a MongoDB query. Every operator MongoDB receives is one this function wrote: values are checked
 * scalars, so no caller (nor a cursor) can pass an operator object through. `$ne: v` is "not (equal to v)", so it
 * matches arrays, as on SQLite (MongoDB's own $ne would not match an array holding v).
 */
export function toMongoFilter(filter: Filter): Record<string, unknown> {
  return andOf(parseFilter(filter).map(toMongoCondition));
}

function toMongoCondition(c: Condition): Record<string, unknown> {
  switch (c.op) {
    case 'eq':
      return eq(c.field, c.value);
    case 'ne':
      return { $nor: [eq(c.field, c.value)] };
    case 'in':
      // $in with null matches null and missing, as equality with null does.
      return c.field === '_id' ? { _id: { $in: c.value } } : { $and: [{ [c.field]: { $in: c.value } }, notArray(c.field)] };
    default:
      // A range meets values of its own BSON type bracket only (numbers, strings, booleans), as on SQLite.
      return c.field === '_id' ? { _id: { [MONGO_OP[c.op]]: c.value } } : { $and: [{ [c.field]: { [MONGO_OP[c.op]]: c.value } }, notArray(c.field)] };
  }
}

function andOf(clauses: Record<string, unknown>[]): Record<string, unknown> {
  return clauses.length === 0 ? {} : clauses.length === 1 ? clauses[0] : { $and: clauses };
}

/** The sort of a find: the field then _id, both in the direction asked. Null and missing sort first ascending. */
export function toMongoSort(field: string, direction: 'asc' | 'desc'): Record<string, 1 | -1> {
  const dir = direction === 'desc' ? -1 : 1;
  return field === '_id' ? { _id: dir } : { [checkField(field)]: dir, _id: dir };
}

/**
 * Where the page after a cursor starts (keyset paging on the sort value, then _id). Null and missing values sort
 * first ascending and last descending in MongoDB as on SQLite; `$gt: null` matches nothing in MongoDB, so a page
 * that ends on a null value continues with the nulls after its id and then every non-null value.
 */
export function cursorFilter(field: string, direction: 'asc' | 'desc', value: Scalar, id: string): Record<string, unknown> {
  const op = direction === 'desc' ? '$lt' : '$gt';
  if (field === '_id') return { _id: { [op]: id } };
  checkField(field);
  const isNull = { [field]: null };
  if (value === null)
    return direction === 'desc' ? { $and: [isNull, { _id: { $lt: id } }] } : { $or: [{ $and: [isNull, { _id: { $gt: id } }] }, { [field]: { $ne: null } }] };
  const after: Record<string, unknown>[] = [{ [field]: { [op]: value } }, { $and: [{ [field]: { $eq: value } }, { _id: { [op]: id } }] }];
  if (direction === 'desc') after.push(isNull);
  return { $or: after };
}

/**
 * The port's update as MongoDB update operators, after the port's checks (conflicting paths, _id, finite numbers):
 * refused here before it is sent, as on SQLite. Values are translated as documents are (`set` of undefined becomes an
 * $unset). A path in setOnInsert and another operator is left out of $setOnInsert (MongoDB refuses one path in two
 * operators; the other operator wins, as on SQLite). What only the document can tell (inc of a string, a path through
 * a scalar) MongoDB refuses itself, as SQLite does (TypeMismatch, PathNotViable: see `isCallersFault`).
 */
export function toMongoUpdate(u: Update): Record<string, unknown> {
  checkUpdate(u);
  const out: Record<string, Record<string, unknown>> = {};
  const put = (op: string, k: string, v: unknown) => ((out[op] ??= {})[k] = v);
  for (const [k, v] of Object.entries(u.set ?? {})) {
    const stored = storedValue(v);
    if (stored === undefined) put('$unset', k, '');
    else put('$set', k, stored);
  }
  for (const [k, v] of Object.entries(u.inc ?? {})) put('$inc', k, v + 0);
  for (const [k, v] of Object.entries(u.max ?? {})) put('$max', k, typeof v === 'number' ? v + 0 : v);
  for (const [k, v] of Object.entries(u.min ?? {})) put('$min', k, typeof v === 'number' ? v + 0 : v);
  for (const k of u.unset ?? []) put('$unset', k, '');
  const taken = new Set(Object.values(out).flatMap((o) => Object.keys(o)));
  for (const [k, v] of Object.entries(u.setOnInsert ?? {})) {
    const stored = storedValue(v);
    if (!taken.has(k) && stored !== undefined) put('$setOnInsert', k, stored);
  }
  // An empty update still creates the document ({_id}), as on SQLite; MongoDB 5.0+ accepts an empty operator.
  if (!Object.keys(out).length) out.$setOnInsert = {};
  return out;
}

/**
 * MongoDB error codes that say the request was wrong, not the server: the caller's (a projection's) fault, never worth
 * retrying. From the server's error_codes.yml: 2 BadValue, 9 FailedToParse, 14 TypeMismatch, 28 PathNotViable, 40
 * ConflictingUpdateOperators, 52 DollarPrefixedFieldName, 55 InvalidDBRef, 56 EmptyFieldName, 57 DottedFieldName, 66
 * ImmutableField, 10334 BSONObjectTooLarge, 17419 (document too large after an update).
 */
const CALLERS_CODES = new Set([2, 9, 14, 28, 40, 52, 55, 56, 57, 66, 10334, 17419]);

/** True when MongoDB refused the request itself (see CALLERS_CODES); anything else is the store's fault. */
export function isCallersFault(err: unknown): boolean {
  if (err instanceof InvalidQueryError || err instanceof TypeError) return true;
  const e = err as { code?: unknown; writeErrors?: Array<{ code?: unknown }> } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'number' && CALLERS_CODES.has(e.code)) return true;
  // A bulk write's error carries the code of the write that failed (driver: MongoBulkWriteError.writeErrors).
  const first = Array.isArray(e.writeErrors) ? e.writeErrors[0] : undefined;
  return typeof first?.code === 'number' && CALLERS_CODES.has(first.code);
}
