import { Doc, FieldFilter, Filter, Update } from './port';

/** Applies an Update to a plain document with MongoDB's semantics (dotted paths). Shared by in-process adapters. */
export function applyUpdate(existing: Doc | null, id: string, update: Update): Doc {
  const doc: Doc = existing ? existing : { _id: id };
  if (!existing && update.setOnInsert) for (const [k, v] of Object.entries(update.setOnInsert)) setPath(doc, k, clone(v));
  if (update.set) for (const [k, v] of Object.entries(update.set)) setPath(doc, k, clone(v));
  if (update.inc)
    for (const [k, v] of Object.entries(update.inc)) {
      const cur = getPath(doc, k);
      setPath(doc, k, (typeof cur === 'number' ? cur : 0) + v);
    }
  if (update.max)
    for (const [k, v] of Object.entries(update.max)) {
      const cur = getPath(doc, k) as number | string | undefined;
      if (cur === undefined || cur === null || cur < v) setPath(doc, k, v);
    }
  if (update.min)
    for (const [k, v] of Object.entries(update.min)) {
      const cur = getPath(doc, k) as number | string | undefined;
      if (cur === undefined || cur === null || cur > v) setPath(doc, k, v);
    }
  if (update.unset) for (const k of update.unset) unsetPath(doc, k);
  doc._id = id;
  return doc;
}

export function getPath(doc: unknown, path: string): unknown {
  let cur: any = doc;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = cur[part];
  }
  return cur;
}

function setPath(doc: any, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    if (cur[parts[i]] === null || typeof cur[parts[i]] !== 'object') cur[parts[i]] = {};
    cur = cur[parts[i]];
  }
  cur[parts[parts.length - 1]] = value;
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

function clone<T>(v: T): T {
  return v === null || typeof v !== 'object' ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function matches(doc: Doc, filter: Filter = {}): boolean {
  for (const [field, cond] of Object.entries(filter)) if (!matchField(getPath(doc, field), cond)) return false;
  return true;
}

function matchField(value: unknown, cond: FieldFilter): boolean {
  if (cond === null || typeof cond !== 'object') return (value ?? null) === cond;
  const v = value as any;
  if (cond.$gt !== undefined && !(v > (cond.$gt as any))) return false;
  if (cond.$gte !== undefined && !(v >= (cond.$gte as any))) return false;
  if (cond.$lt !== undefined && !(v < (cond.$lt as any))) return false;
  if (cond.$lte !== undefined && !(v <= (cond.$lte as any))) return false;
  if (cond.$ne !== undefined && (v ?? null) === cond.$ne) return false;
  if (cond.$in !== undefined && !cond.$in.includes((v ?? null) as any)) return false;
  return true;
}

/** Cursor of keyset paging: the sort value and the id of the last item of the page. */
export function encodeCursor(sortValue: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sortValue ?? null, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [unknown, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[1] === 'string') return [v[0], v[1]];
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
