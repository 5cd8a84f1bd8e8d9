/**
 * Reading a fleet's stores from the outside (read-only SQLite connections on the shared data dir): the usage in the
 * event log, every read model's documents, the log's head, and SQLite's own integrity check.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';

export type Snapshot = Map<string, Map<string, string>>;

function open(file: string): Database.Database {
  return new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
}

/** Every read model document (tables rm_*), by collection and id, as canonical JSON (keys sorted). */
export function readModelSnapshot(dataDir: string, ignoreFields: readonly string[] = []): Snapshot {
  const db = open(path.join(dataDir, 'read-models.db'));
  try {
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'rm\\_%' ESCAPE '\\'`).all() as Array<{ name: string }>).map((r) => r.name);
    const out: Snapshot = new Map();
    for (const t of tables.sort()) {
      const docs = new Map<string, string>();
      for (const row of db.prepare(`SELECT id, doc FROM ${t} ORDER BY id`).all() as Array<{ id: string; doc: string }>) docs.set(row.id, canonical(JSON.parse(row.doc), ignoreFields));
      out.set(t.slice(3), docs);
    }
    return out;
  } finally {
    db.close();
  }
}

export interface SnapshotDiff {
  collection: string;
  id: string;
  kind: 'missing_after' | 'extra_after' | 'different';
  before?: string;
  after?: string;
}

/** Differences between two snapshots (collections absent on one side count as empty). */
export function diffSnapshots(before: Snapshot, after: Snapshot, only?: readonly string[]): SnapshotDiff[] {
  const diffs: SnapshotDiff[] = [];
  const names = new Set([...before.keys(), ...after.keys()]);
  for (const c of [...names].sort()) {
    if (only && !only.includes(c)) continue;
    const a = before.get(c) ?? new Map<string, string>();
    const b = after.get(c) ?? new Map<string, string>();
    for (const [id, doc] of a) {
      if (!b.has(id)) diffs.push({ collection: c, id, kind: 'missing_after', before: doc });
      else if (b.get(id) !== doc) diffs.push({ collection: c, id, kind: 'different', before: doc, after: b.get(id) });
    }
    for (const [id, doc] of b) if (!a.has(id)) diffs.push({ collection: c, id, kind: 'extra_after', after: doc });
  }
  return diffs;
}

export function snapshotSizes(s: Snapshot): Record<string, number> {
  return Object.fromEntries([...s].map(([k, v]) => [k, v.size]));
}

/** JSON with object keys sorted and the named fields dropped at any depth. */
export function canonical(v: unknown, ignore: readonly string[] = []): string {
  const walk = (x: any): any => {
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) if (!ignore.includes(k)) o[k] = walk(x[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(walk(v));
}

export interface LoggedEvent {
  position: number;
  eventId: string;
  streamId: string;
  type: string;
  data: any;
}

/**
 * A drill whose log is on EventStoreDB (the protocol fake) writes the log's events here first (FakeProcess.dump);
 * the checks below then read it instead of events.db.
 */
export const ESDB_DUMP = 'events-esdb.jsonl';

/** Events of the given types, in log order. */
export function eventsOfTypes(dataDir: string, types: readonly string[]): LoggedEvent[] {
  const dumped = path.join(dataDir, ESDB_DUMP);
  if (fs.existsSync(dumped)) {
    const wanted = new Set(types);
    return fs
      .readFileSync(dumped, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LoggedEvent)
      .filter((e) => wanted.has(e.type));
  }
  const db = open(path.join(dataDir, 'events.db'));
  try {
    const rows = db.prepare(`SELECT position, event_id, stream_id, type, data FROM events WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY position`).all(...types) as Array<any>;
    return rows.map((r) => ({ position: Number(r.position), eventId: r.event_id, streamId: r.stream_id, type: r.type, data: JSON.parse(r.data) }));
  } finally {
    db.close();
  }
}

/** Number of events per type. */
export function eventTypeCounts(dataDir: string): Record<string, number> {
  const db = open(path.join(dataDir, 'events.db'));
  try {
    return Object.fromEntries((db.prepare('SELECT type, count(*) AS n FROM events GROUP BY type').all() as Array<{ type: string; n: number }>).map((r) => [r.type, r.n]));
  } finally {
    db.close();
  }
}

/** The log's last position (-1 when empty). */
export function headPosition(dataDir: string): number {
  const db = open(path.join(dataDir, 'events.db'));
  try {
    const r = db.prepare('SELECT max(position) AS h FROM events').get() as { h: number | null };
    return r.h ?? -1;
  } finally {
    db.close();
  }
}

/** SQLite's integrity check of a database file ("ok" when sound). */
export function integrityCheck(file: string): string {
  const db = open(file);
  try {
    return (db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/** Projection checkpoints. */
export function checkpoints(dataDir: string): Record<string, number> {
  const db = open(path.join(dataDir, 'read-models.db'));
  try {
    return Object.fromEntries((db.prepare('SELECT name, position FROM projection_checkpoints').all() as Array<{ name: string; position: number }>).map((r) => [r.name, Number(r.position)]));
  } finally {
    db.close();
  }
}

/** Every file of the data dir's stores, with sizes (for the report). */
export function storeFiles(dataDir: string): Record<string, number> {
  return Object.fromEntries(
    fs
      .readdirSync(dataDir)
      .filter((f) => f.endsWith('.db') || f.endsWith('-wal') || f.endsWith('-shm'))
      .map((f) => [f, fs.statSync(path.join(dataDir, f)).size]),
  );
}
