import { Doc, FieldFilter, Filter, Scalar, Update } from './port';

/**
 * The port's rules for documents, filters and updates, shared by every adapter so they agree by construction: the
 * SQLite adapter applies updates with `applyUpdate`; the MongoDB adapter checks them with `checkUpdate` and leaves the
 * applying to the server, whose rules (MongoDB's update operators) these follow.
 */

/** A field of a filter, sort or update: `[A-Za-z0-9_]` segments joined by dots. */
const FIELD = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/;

/** An update, filter or cursor the port does not accept (a programming error of the caller, not the store's). */
export class InvalidQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryError';
  }
}

export function checkField(field: string): string {
  if (!FIELD.test(field)) throw new InvalidQueryError(`Invalid field name ${JSON.stringify(field)}: use [A-Za-z0-9_] segments joined by dots`);
  return field;
}

/** A filter or cursor value: string, finite number, boolean or null (NaN, Infinity, Date, objects are refused). */
export function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** An object literal (an operator object), not an array, a Date or another class's instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function checkScalar(v: unknown, where: string): Scalar {
  if (!isScalar(v)) throw new InvalidQueryError(`${where}: ${describeValue(v)} is not a string, finite number, boolean or null`);
  return v;
}

function describeValue(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Date) return 'a Date';
  if (typeof v === 'number' || v === undefined) return String(v);
  return `a ${Array.isArray(v) ? 'array' : typeof v}`;
}

export type Op = 'eq' | 'gt' | 'gte' | 'lt' | 'lte' | 'ne' | 'in';

/** One condition of a filter, checked: a known operator, a valid field, scalar values (the port's FieldFilter rules). */
export type Condition = { field: string; op: Exclude<Op, 'in'>; value: Scalar } | { field: string; op: 'in'; value: Scalar[] };

const OPS: Record<string, Op | undefined> = { $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte', $ne: 'ne', $in: 'in' };

/**
 * A filter as checked conditions, the one reading of the port's filters every adapter translates from: undefined
 * conditions are left out; unknown operators, bad field names, values that are not scalars, ranges on null and `_id`
 * values that are not strings are refused (InvalidQueryError).
 */
export function parseFilter(filter: Filter): Condition[] {
  const out: Condition[] = [];
  for (const [field, cond] of Object.entries(filter) as Array<[string, FieldFilter | undefined]>) {
    if (cond === undefined) continue;
    checkField(field);
    if (!isPlainObject(cond)) {
      out.push(condition(field, 'eq', checkScalar(cond, `filter ${field}`)));
      continue;
    }
    for (const [key, v] of Object.entries(cond)) {
      if (v === undefined) continue;
      const op = OPS[key];
      if (!op) throw new InvalidQueryError(`filter ${field}: unknown operator ${key} (use $gt, $gte, $lt, $lte, $ne, $in)`);
      if (op === 'in') {
        if (!Array.isArray(v)) throw new InvalidQueryError(`filter ${field}.$in: not an array`);
        const values = v.map((x) => checkScalar(x, `filter ${field}.$in`));
        if (field === '_id') for (const x of values) checkId(x);
        out.push({ field, op, value: values });
      } else out.push(condition(field, op, checkScalar(v, `filter ${field}.${key}`)));
    }
  }
  return out;
}

function condition(field: string, op: Exclude<Op, 'in'>, value: Scalar): Condition {
  if (value === null && op !== 'eq' && op !== 'ne') throw new InvalidQueryError(`filter ${field}: a range on null matches nothing (use null or $ne: null)`);
  if (field === '_id') checkId(value);
  return { field, op, value };
}

function checkId(v: Scalar): void {
  if (v !== null && typeof v !== 'string') throw new InvalidQueryError(`filter _id: ids are strings`);
}

/**
 * Checks an update without a document: field names, no `_id`, finite numbers for inc/max/min, and no two paths of
 * which one is the other or a prefix of it (MongoDB refuses those: `set a` + `inc a.b`, `set x` + `unset x`). The one
 * overlap allowed is the same path in `setOnInsert` and another operator: the other operator wins (the MongoDB adapter
 * leaves such a path out of $setOnInsert). Throws InvalidQueryError.
 */
export function checkUpdate(u: Update): void {
  // One pass, then prefix look-ups (not a comparison of every pair): this runs for every upsert of every projection.
  // PATHS maps a path to 1 (another operator) or 2 (setOnInsert); one map reused (this function never awaits).
  const paths = PATHS;
  paths.clear();
  let dotted = false;
  if (u.set) for (const k in u.set) dotted = addPath(paths, 'set', k, 1) || dotted;
  if (u.inc)
    for (const k in u.inc) {
      dotted = addPath(paths, 'inc', k, 1) || dotted;
      const v = u.inc[k];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidQueryError(`inc ${k}: ${describeValue(v)} is not a finite number`);
    }
  if (u.max) for (const k in u.max) dotted = addPath(paths, 'max', k, 1, u.max[k]) || dotted;
  if (u.min) for (const k in u.min) dotted = addPath(paths, 'min', k, 1, u.min[k]) || dotted;
  if (u.unset) for (const k of u.unset) dotted = addPath(paths, 'unset', k, 1) || dotted;
  if (u.setOnInsert) for (const k in u.setOnInsert) dotted = addPath(paths, 'setOnInsert', k, 2) || dotted;
  if (!dotted) return;
  for (const path of paths.keys())
    for (let i = path.indexOf('.'); i > 0; i = path.indexOf('.', i + 1))
      if (paths.has(path.slice(0, i))) throw new InvalidQueryError(`Update paths ${path.slice(0, i)} and ${path} conflict`);
}

const PATHS = new Map<string, number>();

/** Field names already checked (they repeat: a projection writes the same few paths): a look-up instead of the regex. */
const CHECKED_PATHS = new Set<string>();

/** Adds one path of an update (kind 1: set/inc/max/min/unset, 2: setOnInsert); true when it is dotted. */
function addPath(paths: Map<string, number>, op: string, path: string, kind: number, bound?: unknown): boolean {
  if (!CHECKED_PATHS.has(path)) {
    checkField(path);
    if (path === '_id' || path.startsWith('_id.')) throw new InvalidQueryError(`An update may not change _id (${op} ${path})`);
    if (CHECKED_PATHS.size >= 10_000) CHECKED_PATHS.clear();
    CHECKED_PATHS.add(path);
  }
  if (kind === 1 && (op === 'max' || op === 'min') && typeof bound !== 'string' && !(typeof bound === 'number' && Number.isFinite(bound)))
    throw new InvalidQueryError(`${op} ${path}: ${describeValue(bound)} is not a string or finite number`);
  const prev = paths.get(path);
  // The same path in setOnInsert and another operator: the other wins (documented above).
  if (prev === kind) throw new InvalidQueryError(`Update path ${path} is given twice`);
  if (prev === undefined) paths.set(path, kind);
  return path.includes('.');
}

/**
 * Applies an Update to a plain document as MongoDB does (dotted paths), after `checkUpdate`. Strict where MongoDB is:
 * `inc` on a present non-number (null included) and a path through a present non-object (null, a scalar or an array)
 * throw InvalidQueryError and leave the document unchanged. `max`/`min` compare in MongoDB's order of types (null <
 * numbers < strings < objects < arrays < booleans); a missing field takes the value.
 */
export function applyUpdate(existing: Doc | null, id: string, update: Update): Doc {
  checkUpdate(update);
  const doc: Doc = existing ? existing : { _id: id };
  const { set, inc, max, min, unset } = update;
  const onInsert = existing ? undefined : update.setOnInsert;
  // Check against the document first: a refused update must not leave it half changed (a unit keeps its objects).
  if (onInsert) for (const k in onInsert) checkParents(doc, k);
  if (set) for (const k in set) checkParents(doc, k);
  if (inc)
    for (const k in inc) {
      const cur = checkParents(doc, k);
      if (cur !== undefined && typeof cur !== 'number') throw new InvalidQueryError(`Cannot inc ${k}: it holds ${describeValue(cur)}, not a number`);
    }
  if (max) for (const k in max) checkParents(doc, k);
  if (min) for (const k in min) checkParents(doc, k);

  if (onInsert) for (const k in onInsert) setPath(doc, k, clone(onInsert[k]));
  if (set) for (const k in set) setPath(doc, k, clone(set[k]));
  if (inc)
    for (const k in inc) {
      const cur = getPath(doc, k);
      setPath(doc, k, (typeof cur === 'number' ? cur : 0) + inc[k]);
    }
  if (max)
    for (const k in max) {
      const cur = getPath(doc, k);
      if (cur === undefined || compareValues(cur, max[k]) < 0) setPath(doc, k, max[k]);
    }
  if (min)
    for (const k in min) {
      const cur = getPath(doc, k);
      if (cur === undefined || compareValues(cur, min[k]) > 0) setPath(doc, k, min[k]);
    }
  if (unset) for (const k of unset) unsetPath(doc, k);
  doc._id = id;
  return doc;
}

/** The value at `path` (undefined if missing); throws if a present parent on the way is not a plain object. */
function checkParents(doc: any, path: string): unknown {
  if (!path.includes('.')) return doc[path];
  let cur: any = doc;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && (cur === null || typeof cur !== 'object' || Array.isArray(cur)))
      throw new InvalidQueryError(`Cannot write ${path}: ${parts.slice(0, i).join('.')} holds ${describeValue(cur)}, not an object`);
    cur = cur[parts[i]];
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** MongoDB's order of BSON types, for the values a JSON document holds (BSON spec, "Comparison/Sort Order"). */
function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 5;
  if (typeof v === 'object') return 4;
  if (typeof v === 'boolean') return 8;
  return 9;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 2 || ra === 3) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  if (ra === 8) return Number(a) - Number(b);
  return 0;
}

export function getPath(doc: unknown, path: string): unknown {
  if (!path.includes('.')) return doc !== null && typeof doc === 'object' ? (doc as Record<string, unknown>)[path] : undefined;
  let cur: any = doc;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = cur[part];
  }
  return cur;
}

function setPath(doc: any, path: string, value: unknown): void {
  if (!path.includes('.')) {
    if (value === undefined) delete doc[path];
    else doc[path] = value;
    return;
  }
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur[parts[i]] === undefined) cur[parts[i]] = {};
    cur = cur[parts[i]];
  }
  // JSON has no undefined: `set a: undefined` leaves a absent, as the stored JSON (and the MongoDB adapter) does.
  if (value === undefined) delete cur[parts[parts.length - 1]];
  else cur[parts[parts.length - 1]] = value;
}

function unsetPath(doc: any, path: string): void {
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur[parts[i]] === null || typeof cur[parts[i]] !== 'object') return;
    cur = cur[parts[i]];
  }
  delete cur[parts[parts.length - 1]];
}

/** A value as its stored JSON reads back (NaN and ±Infinity null, -0 0, a Date its ISO string); bigint throws. */
function clone<T>(v: T): T {
  if (typeof v === 'number') return (Number.isFinite(v) ? v + 0 : null) as T;
  if (typeof v === 'bigint') throw new InvalidQueryError(`${v}n: a bigint has no JSON form (store it as a string)`);
  return v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Cursor of keyset paging: the sort value and the id of the last item of the page. */
export function encodeCursor(sortValue: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sortValue ?? null, id])).toString('base64url');
}

/** The sort value (a scalar: a tampered cursor cannot carry an operator object) and the id. */
export function decodeCursor(cursor: string): [Scalar, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string' && isScalar(v[0])) return [v[0], v[1]];
  } catch {
    /* fall through */
  }
  throw new InvalidCursorError();
}

export class InvalidCursorError extends Error {
  constructor() {
    super('The cursor is not one this API issued.');
    this.name = 'InvalidCursorError';
  }
}
