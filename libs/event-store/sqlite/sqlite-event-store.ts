import type Database from 'better-sqlite3';
import { EventEmitter } from 'events';
import { openDatabase, SyncMode, describe } from '../../sqlite/open-database';
import {
  AppendResult,
  EventStore,
  EventStoreUnavailableError,
  ExpectedRevision,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  StoredEvent,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
  WrongExpectedVersionError,
} from '../port';
import { PollingSubscription } from '../polling-subscription';

interface PendingAppend {
  streamId: string;
  events: NewEvent[];
  expected: ExpectedRevision;
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
}

interface Row {
  position: number | bigint;
  event_id: string;
  stream_id: string;
  revision: number | bigint;
  type: string;
  data: string;
  metadata: string;
}

export interface SqliteEventStoreOptions {
  file: string;
  sync?: SyncMode;
  /** How often a subscription looks for events appended by other processes sharing the file. */
  pollIntervalMs?: number;
  /** How many decoded events the shared in-memory tail keeps (default 50,000; 0 disables it). */
  tailSize?: number;
  /** Test-only fault hook, called inside the commit path (see test/drills). */
  faultHook?: (point: 'after-append-before-ack') => void;
}

/**
 * The embedded event store: one SQLite file in WAL mode. Appends arriving in the same tick are committed in one
 * transaction (group commit); each append keeps its own optimistic-concurrency check and its own outcome.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  /** Wakes this process's subscriptions after a local append (one listener per subscription). */
  private readonly notifier = new EventEmitter().setMaxListeners(0);
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly subscriptions = new Set<PollingSubscription>();
  /**
   * The log's newest events, decoded once and shared by every subscription of this process: `tail` holds, in
   * position order and with none missing, every event in (tailFrom, tailTo]. Extended by a read after tailTo (for
   * everyone) or, after a local commit, by the appended events when they follow tailTo with no gap.
   */
  private tail: StoredEvent[] = [];
  /** Index of the tail's first live element (the ring's start; trimmed in chunks). */
  private tailStart = 0;
  private tailFrom = -1n;
  private tailTo = -1n;
  private readonly tailSize: number;
  private notifyScheduled = false;
  private readonly stmt: {
    lastRevision: Database.Statement;
    byEventId: Database.Statement;
    insert: Database.Statement;
    readForward: Database.Statement;
    readBackward: Database.Statement;
    readAll: Database.Statement;
    head: Database.Statement;
  };

  constructor(private readonly options: SqliteEventStoreOptions) {
    this.db = openDatabase({ file: options.file, sync: options.sync });
    try {
      this.db.exec(`
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
      this.stmt = {
        lastRevision: this.db.prepare('SELECT revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1').safeIntegers(true),
        byEventId: this.db.prepare('SELECT position, stream_id FROM events WHERE event_id = ?').safeIntegers(true),
        insert: this.db.prepare('INSERT INTO events (event_id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)'),
        readForward: this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?').safeIntegers(true),
        readBackward: this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?').safeIntegers(true),
        readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?').safeIntegers(true),
        head: this.db.prepare('SELECT max(position) AS head FROM events').safeIntegers(true),
      };
      this.tailSize = options.tailSize ?? 50_000;
      const head = (this.stmt.head.get() as { head: bigint | null }).head ?? -1n;
      this.tailFrom = this.tailTo = head;
    } catch (err) {
      this.db.close();
      throw new EventStoreUnavailableError(`Cannot open the event store ${options.file}: ${describe(err)}`, err);
    }
  }

  append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed.'));
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ streamId, events, expected: expectedRevision, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued append in one transaction; each append succeeds or fails on its own. */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; result: AppendResult } | { ok: false; error: unknown }> = [];
    this.appended = [];
    const run = this.db.transaction(() => {
      for (const pending of batch) {
        try {
          outcomes.push({ ok: true, result: this.appendInTransaction(pending) });
        } catch (error) {
          if (error instanceof WrongExpectedVersionError || (error as Error).name === 'PartialDuplicateError') {
            outcomes.push({ ok: false, error });
          } else {
            throw error;
          }
        }
      }
    });
    try {
      run.immediate();
    } catch (err) {
      this.appended = [];
      const error = new EventStoreUnavailableError(`Append failed: ${describe(err)}`, err);
      for (const p of batch) p.reject(error);
      return;
    }
    this.addToTail(this.appended);
    this.appended = [];
    this.options.faultHook?.('after-append-before-ack');
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (o.ok) p.resolve(o.result);
      else p.reject(o.error);
    });
    this.notifyAppended();
  }

  /** Wakes the subscriptions once for every append committed in this turn of the event loop. */
  private notifyAppended(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      this.notifier.emit('appended');
    });
  }

  /** Events committed by the running flush, in position order (savepoints that rolled back contribute none). */
  private appended: StoredEvent[] = [];

  /** Puts events this process committed at the tail's end when they follow it with no gap; otherwise leaves them to a read. */
  private addToTail(events: StoredEvent[]): void {
    if (!events.length || this.tailSize <= 0) return;
    let expected = this.tailTo + 1n;
    for (const e of events) {
      if (e.position !== expected) return;
      expected += 1n;
    }
    for (const e of events) this.tail.push(e);
    this.tailTo = events[events.length - 1].position;
    this.trimTail();
  }

  private trimTail(): void {
    const live = this.tail.length - this.tailStart;
    if (live > this.tailSize) {
      this.tailStart += live - this.tailSize;
      this.tailFrom = this.tail[this.tailStart - 1].position;
    }
    // Drop the dead prefix in chunks, so trimming costs O(1) per event.
    if (this.tailStart > 4096 && this.tailStart * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** Index of the first tail event with a position above `after` (tailFrom <= after <= tailTo). */
  private tailIndexAfter(after: bigint): number {
    let lo = this.tailStart;
    let hi = this.tail.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tail[mid].position <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Up to `max` events after `after` in position order, and the position the window covered, served from the shared
   * tail when it covers `after`. A read past the tail's end queries the file once and extends the tail for everyone.
   */
  private readWindow(after: bigint, max: number): { window: StoredEvent[]; end: bigint } {
    if (this.tailSize > 0 && after > this.tailTo) {
      // A reader ahead of the tail's end (appends made while nobody subscribed): the tail restarts there, empty.
      this.tail = [];
      this.tailStart = 0;
      this.tailFrom = this.tailTo = after;
    }
    if (this.tailSize > 0 && after >= this.tailFrom) {
      if (after === this.tailTo) {
        const rows = this.stmt.readAll.all(this.tailTo, Math.max(max, 500)) as Row[];
        if (rows.length) {
          for (const r of rows) this.tail.push(toStored(r));
          this.tailTo = BigInt(rows[rows.length - 1].position);
          this.trimTail();
        }
        if (after >= this.tailTo) return { window: [], end: after };
        if (after < this.tailFrom) return this.readWindow(after, max);
      }
      const i = this.tailIndexAfter(after);
      const window = this.tail.slice(i, Math.min(i + max, this.tail.length));
      return { window, end: window.length ? window[window.length - 1].position : after };
    }
    const rows = this.stmt.readAll.all(after, max) as Row[];
    const window = rows.map(toStored);
    return { window, end: window.length ? window[window.length - 1].position : after };
  }

  /**
   * One append inside the group's transaction. The insert runs in a savepoint (a nested better-sqlite3 transaction)
   * and the UNIQUE index on event_id detects a stored id, so the common path costs no lookup per event.
   */
  private appendInTransaction(p: PendingAppend): AppendResult {
    const lastRow = this.stmt.lastRevision.get(p.streamId) as { revision: bigint } | undefined;
    const current: bigint | 'no_stream' = lastRow ? lastRow.revision : 'no_stream';
    const e = p.expected;
    const ok =
      e === 'any' ||
      (e === 'no_stream' && current === 'no_stream') ||
      (e === 'stream_exists' && current !== 'no_stream') ||
      (typeof e === 'bigint' && current !== 'no_stream' && current === e);
    if (!ok) {
      // A retry of an append that was stored is acknowledged, whatever revision it expected.
      const stored = this.storedDuplicate(p, current);
      if (stored) return stored;
      throw new WrongExpectedVersionError(p.streamId, e, current);
    }
    try {
      return this.insertInSavepoint(p, current === 'no_stream' ? -1n : current);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' && /event_id/.test((err as Error).message)) {
        const stored = this.storedDuplicate(p, current);
        if (stored) return stored;
        const partial = new Error(`Some but not all events of this append are already stored in ${p.streamId}`);
        partial.name = 'PartialDuplicateError';
        throw partial;
      }
      throw err;
    }
  }

  private insertInSavepointTx: ((p: PendingAppend, from: bigint) => AppendResult) | null = null;

  private insertInSavepoint(p: PendingAppend, from: bigint): AppendResult {
    this.insertInSavepointTx ??= this.db.transaction((q: PendingAppend, start: bigint) => {
      let revision = start;
      let position = 0n;
      const stored: StoredEvent[] = [];
      for (const ev of q.events) {
        revision += 1n;
        const data = JSON.stringify(ev.data ?? null);
        const metadata = JSON.stringify(ev.metadata ?? {});
        const info = this.stmt.insert.run(ev.id, q.streamId, revision, ev.type, data, metadata);
        position = BigInt(info.lastInsertRowid);
        // Decoded from the stored JSON, so a subscriber sees exactly what a read of the file would give.
        if (this.tailSize > 0 && this.subscriptions.size) stored.push({ id: ev.id, streamId: q.streamId, revision, position, type: ev.type, data: JSON.parse(data), metadata: JSON.parse(metadata) });
      }
      // Reached only when the savepoint's inserts all succeeded.
      for (const e of stored) this.appended.push(e);
      return { nextExpectedRevision: revision, position, duplicate: false };
    });
    return this.insertInSavepointTx(p, from);
  }

  /** The duplicate outcome when every event id of the append is stored; null when any is new. */
  private storedDuplicate(p: PendingAppend, current: bigint | 'no_stream'): AppendResult | null {
    let last: { position: bigint } | undefined;
    for (const ev of p.events) {
      last = this.stmt.byEventId.get(ev.id) as { position: bigint } | undefined;
      if (!last) return null;
    }
    return { nextExpectedRevision: current === 'no_stream' ? -1n : current, position: last!.position, duplicate: true };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    const rows =
      options.direction === 'backwards'
        ? (this.stmt.readBackward.all(streamId, options.fromRevision ?? BigInt(Number.MAX_SAFE_INTEGER), max) as Row[])
        : (this.stmt.readForward.all(streamId, options.fromRevision ?? 0n, max) as Row[]);
    return rows.map(toStored);
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    return this.readAllSync(options.after ?? -1n, options.maxCount ?? 1000, options.types);
  }

  /** Synchronous read used by subscriptions and replay (better-sqlite3 is synchronous; this avoids promise churn). */
  readAllSync(after: bigint, maxCount: number, types?: readonly string[]): StoredEvent[] {
    if (!types || types.length === 0) return (this.stmt.readAll.all(after, maxCount) as Row[]).map(toStored);
    // Filter in JS over a bounded window so the position keeps moving even where no event matches.
    const rows = this.stmt.readAll.all(after, maxCount) as Row[];
    const wanted = new Set(types);
    return rows.filter((r) => wanted.has(r.type)).map(toStored);
  }

  subscribeToAll(handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    const wanted = options.types ? new Set(options.types) : null;
    const sub = new PollingSubscription({
      after: options.after ?? -1n,
      batchSize: options.batchSize ?? 500,
      pollIntervalMs: this.options.pollIntervalMs ?? 50,
      types: options.types,
      read: async (after, max) => {
        // Filtered reads must still advance past non-matching events: read the raw window, filter, report its end.
        const { window, end } = this.readWindow(after, max);
        return { events: wanted ? window.filter((e) => wanted.has(e.type)) : window, end, full: window.length >= max };
      },
      head: () => this.headPosition(),
      notifier: this.notifier,
      handler,
      minBatchIntervalMs: options.minBatchIntervalMs,
      onStop: (s) => this.subscriptions.delete(s),
    });
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  async headPosition(): Promise<bigint> {
    const row = this.stmt.head.get() as { head: bigint | null };
    return row.head ?? -1n;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.queue.length) this.flush();
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.db.close();
  }
}

function toStored(r: Row): StoredEvent {
  return {
    id: r.event_id,
    streamId: r.stream_id,
    revision: BigInt(r.revision),
    position: BigInt(r.position),
    type: r.type,
    data: JSON.parse(r.data),
    metadata: JSON.parse(r.metadata),
  };
}
