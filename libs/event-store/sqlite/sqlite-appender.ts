import type Database from 'better-sqlite3';
import type { ExpectedRevision } from '../port';

/**
 * The write side of the SQLite event store, shared by the writer thread (sqlite-writer.worker.ts) and the inline
 * mode: one transaction per group of appends, each append with its own optimistic-concurrency check, idempotent
 * event ids and outcome. It works on plain, cloneable data (JSON already encoded, outcomes as records), so a group
 * can cross a thread boundary as one message. Keep its imports to types: the worker loads it on its own.
 */

/** One event, its data and metadata already JSON-encoded (what the file stores). */
export interface EncodedEvent {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

export interface EncodedAppend {
  streamId: string;
  expected: ExpectedRevision;
  events: EncodedEvent[];
}

export type AppendOutcome =
  /** `positions`: the global position of each inserted event (empty for a duplicate). */
  | { ok: true; nextExpectedRevision: bigint; position: bigint; duplicate: boolean; positions: bigint[] }
  | { ok: false; kind: 'wrong-version'; streamId: string; expected: ExpectedRevision; actual: bigint | 'no_stream' }
  | { ok: false; kind: 'partial-duplicate'; message: string };

/** A group's result: one outcome per append, or the failure of the whole transaction (nothing committed). */
export type GroupResult = { ok: true; outcomes: AppendOutcome[] } | { ok: false; code?: string; message: string };

/** Creates the events table if needed (idempotent; run by whoever opens the file first). */
export function ensureEventsSchema(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      position  INTEGER PRIMARY KEY AUTOINCREMENT,
      event_id  TEXT NOT NULL UNIQUE,
      stream_id TEXT NOT NULL,
      revision  INTEGER NOT NULL,
      type      TEXT NOT NULL,
      data      TEXT NOT NULL,
      metadata  TEXT NOT NULL,
      UNIQUE (stream_id, revision)
    );
  `);
}

/**
 * Returns `commit(group)`, which commits a group of appends in one IMMEDIATE transaction and returns each append's
 * outcome. A failure of the transaction itself (I/O, full disk, lock) throws: nothing of the group is committed.
 */
export function createAppender(db: Database.Database): (group: EncodedAppend[]) => AppendOutcome[] {
  const lastRevision = db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').safeIntegers(true);
  const byEventId = db.prepare('SELECT position FROM events WHERE event_id = ?').safeIntegers(true);
  const insert = db.prepare('INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');

  /** The duplicate outcome when every event id of the append is stored; null when any is new. */
  const storedDuplicate = (p: EncodedAppend, current: bigint | 'no_stream'): AppendOutcome | null => {
    let last: { position: bigint } | undefined;
    for (const ev of p.events) {
      last = byEventId.get(ev.id) as { position: bigint } | undefined;
      if (!last) return null;
    }
    return { ok: true, nextExpectedRevision: current === 'no_stream' ? -1n : current, position: last!.position, duplicate: true, positions: [] };
  };

  /** The inserts of one append, in a savepoint (a nested better-sqlite3 transaction): all or none. */
  const insertInSavepoint = db.transaction((p: EncodedAppend, start: bigint): AppendOutcome => {
    let revision = start;
    let position = 0n;
    const positions: bigint[] = [];
    for (const ev of p.events) {
      revision += 1n;
      position = BigInt(insert.run(ev.id, p.streamId, revision, ev.type, ev.data, ev.metadata).lastInsertRowid);
      positions.push(position);
    }
    return { ok: true, nextExpectedRevision: revision, position, duplicate: false, positions };
  });

  const insertOne = (p: EncodedAppend, start: bigint): AppendOutcome => {
    const ev = p.events[0];
    const position = BigInt(insert.run(ev.id, p.streamId, start + 1n, ev.type, ev.data, ev.metadata).lastInsertRowid);
    return { ok: true, nextExpectedRevision: start + 1n, position, duplicate: false, positions: [position] };
  };

  /** One append inside the group's transaction. The UNIQUE index on event_id detects a stored id, so the common path costs no lookup. */
  const appendOne = (p: EncodedAppend): AppendOutcome => {
    // The common append (one event to a new stream: a usage record) needs no lookup: UNIQUE (stream_id, revision)
    // refuses it if the stream exists, and UNIQUE event_id if the id is stored; either way the checked path below
    // then decides what it is (a wrong version, a duplicate), as it does for every other append.
    if (p.expected === 'no_stream' && p.events.length === 1) {
      try {
        return insertOne(p, -1n);
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw err;
      }
    }
    const lastRow = lastRevision.get(p.streamId) as { revision: bigint } | undefined;
    const current: bigint | 'no_stream' = lastRow ? lastRow.revision : 'no_stream';
    const e = p.expected;
    const ok =
      e === 'any' ||
      (e === 'no_stream' && current === 'no_stream') ||
      (e === 'stream_exists' && current !== 'no_stream') ||
      (typeof e === 'bigint' && current !== 'no_stream' && current === e);
    if (!ok) {
      // A retry of an append that was stored is acknowledged, whatever revision it expected.
      return storedDuplicate(p, current) ?? { ok: false, kind: 'wrong-version', streamId: p.streamId, expected: e, actual: current };
    }
    try {
      const start = current === 'no_stream' ? -1n : current;
      // One row is atomic on its own (a failed INSERT changes nothing): no savepoint needed.
      return p.events.length === 1 ? insertOne(p, start) : insertInSavepoint(p, start);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /event_id/.test((err as Error).message)) {
        return storedDuplicate(p, current) ?? { ok: false, kind: 'partial-duplicate', message: `Some but not all events of this append are already stored in ${p.streamId}` };
      }
      throw err;
    }
  };

  const run = db.transaction((group: EncodedAppend[]) => group.map(appendOne));
  return (group) => run.immediate(group);
}

/** Runs `commit` and turns a failed transaction into a cloneable GroupResult (the worker posts it as is). */
export function commitGroup(commit: (group: EncodedAppend[]) => AppendOutcome[], group: EncodedAppend[]): GroupResult {
  try {
    return { ok: true, outcomes: commit(group) };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return { ok: false, code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : String(err) };
  }
}
