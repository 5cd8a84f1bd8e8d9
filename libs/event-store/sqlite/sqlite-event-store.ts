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
import { AppendOutcome, commitGroup, createAppender, EncodedAppend, ensureEventsSchema, GroupResult } from './sqlite-appender';
import { GroupWriter, ThreadGroupWriter } from './sqlite-writer-thread';

interface PendingAppend {
  encoded: EncodedAppend;
  /** The events as the caller gave them: the tail hands their data on instead of decoding what was stored. */
  events: NewEvent[];
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
  /**
   * Where appends are committed (default 'thread'): on a worker thread with its own write connection, so the
   * INSERTs and the COMMIT's fsync never block this thread's event loop; or 'inline', on this thread's connection
   * (for code that already runs on a worker thread, e.g. a projector, to avoid nested writers). ':memory:' is
   * always inline.
   */
  writer?: 'thread' | 'inline';
}

/** Under test, the tail's events are checked against their stored JSON and frozen (see committedEvents). */
const CHECK_TAIL = process.env.NODE_ENV === 'test';

function checkTailEvent(ev: EncodedAppend['events'][number], data: unknown, metadata: unknown): void {
  const problem = notPlainJson(data, 'data') ?? notPlainJson(metadata, 'metadata') ?? (JSON.stringify(data) !== ev.data || JSON.stringify(metadata) !== ev.metadata ? 'changed after its append' : null);
  if (problem) throw new Error(`Event ${ev.id} (${ev.type}): ${problem}; the tail would differ from what the log holds`);
  deepFreeze(data);
  deepFreeze(metadata);
}

/** Where a value stops being plain JSON (a property may be undefined: it reads the same as a missing one), or null. */
function notPlainJson(value: unknown, path: string): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${path} is ${value}, not JSON`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = value[i] === undefined ? `${path}[${i}] is undefined, not JSON` : notPlainJson(value[i], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return `${path} is a ${proto?.constructor?.name ?? 'class instance'}, not a plain object`;
    for (const [k, v] of Object.entries(value)) {
      const p = v === undefined ? null : notPlainJson(v, `${path}.${k}`);
      if (p) return p;
    }
    return null;
  }
  return `${path} is a ${typeof value}, not JSON`;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** Commits on this thread's connection: `done` is called before commit() returns. */
class InlineGroupWriter implements GroupWriter {
  private readonly commitFn: (group: EncodedAppend[]) => AppendOutcome[];
  failure: string | null = null;
  constructor(db: Database.Database) {
    this.commitFn = createAppender(db);
  }
  commit(group: EncodedAppend[], done: (result: GroupResult) => void): void {
    done(commitGroup(this.commitFn, group));
  }
  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * The embedded event store: one SQLite file in WAL mode. Appends arriving in the same tick (and those arriving while
 * a group commits) are committed in one transaction (group commit), one group at a time; each append keeps its own
 * optimistic-concurrency check and its own outcome. By default the commits run on a writer thread with its own
 * connection; reads, subscriptions and the shared decoded tail stay on this thread's connection.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  /** Wakes this process's subscriptions after a local append (one listener per subscription). */
  private readonly notifier = new EventEmitter().setMaxListeners(0);
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  /** A group is being committed; appends arriving meanwhile wait in the queue for the next group. */
  private committing = false;
  /** Called once nothing is queued or committing (close() drains through it). */
  private drained: (() => void) | null = null;
  private closed = false;
  private readonly writer: GroupWriter;
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
  /** Types of the events committed since the last wake-up: a subscription to other types sleeps on. */
  private appendedTypes = new Set<string>();
  /**
   * When a read last asked the file for events past the tail's end, and whether only this process's commits moved the
   * tail since. Then the file has nothing newer but other processes' appends, which a poll finds: a read at the tail's
   * end asks the file again only once the poll interval has passed (not after every local commit, per subscription).
   */
  private fileCheckedAt = 0;
  private tailMovedLocally = false;
  private readonly stmt: {
    readForward: Database.Statement;
    readBackward: Database.Statement;
    readAll: Database.Statement;
    head: Database.Statement;
  };

  constructor(private readonly options: SqliteEventStoreOptions) {
    this.db = openDatabase({ file: options.file, sync: options.sync });
    try {
      ensureEventsSchema(this.db);
      this.stmt = {
        readForward: this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?').safeIntegers(true),
        readBackward: this.db.prepare('SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?').safeIntegers(true),
        readAll: this.db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?').safeIntegers(true),
        head: this.db.prepare('SELECT max(position) AS head FROM events').safeIntegers(true),
      };
      this.tailSize = options.tailSize ?? 50_000;
      const head = this.head();
      this.tailFrom = this.tailTo = head;
      // Opened after this thread's connection, so a corrupt, unwritable or locked file fails above, synchronously.
      // An in-memory database cannot be shared with another connection: it always commits inline.
      const inline = (options.writer ?? 'thread') === 'inline' || options.file === ':memory:';
      this.writer = inline ? new InlineGroupWriter(this.db) : new ThreadGroupWriter(options.file, options.sync);
    } catch (err) {
      this.db.close();
      throw new EventStoreUnavailableError(`Cannot open the event store ${options.file}: ${describe(err)}`, err);
    }
  }

  /** Resolves once appends can be committed (the writer thread opened its connection); rejects, naming the cause, if not. */
  async ready(): Promise<void> {
    try {
      await this.writer.ready();
    } catch (err) {
      throw new EventStoreUnavailableError(`Cannot open the event store ${this.options.file}: ${(err as Error).message}`, err);
    }
  }

  append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new EventStoreUnavailableError('The event store is closed.'));
    if (events.length === 0) return Promise.reject(new Error('append needs at least one event'));
    if (this.writer.failure) return Promise.reject(new EventStoreUnavailableError(`Append failed: ${this.writer.failure}`));
    let encoded: EncodedAppend;
    try {
      // Encoded now, on this thread: strings cost less to post to the writer than the objects' structured clone.
      encoded = { streamId, expected: expectedRevision, events: events.map((ev) => ({ id: ev.id, type: ev.type, data: JSON.stringify(ev.data ?? null), metadata: JSON.stringify(ev.metadata ?? {}) })) };
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ encoded, events, resolve, reject });
      if (!this.flushScheduled && !this.committing) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends every queued append to the writer as one group (one group in flight at a time); each succeeds or fails on its own. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.committing) return;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) {
      this.drained?.();
      return;
    }
    this.committing = true;
    this.writer.commit(
      batch.map((p) => p.encoded),
      (result) => {
        this.committing = false;
        this.settle(batch, result);
        // Appends that arrived during the commit form the next group at once.
        if (this.queue.length) this.flush();
        else this.drained?.();
      },
    );
  }

  /** After the COMMIT returned: extends the shared tail, then acknowledges each append and wakes the subscriptions. */
  private settle(batch: PendingAppend[], result: GroupResult): void {
    if (!result.ok) {
      const error = new EventStoreUnavailableError(`Append failed: ${describe(result)}`, result);
      for (const p of batch) p.reject(error);
      return;
    }
    if (this.tailSize > 0 && this.subscriptions.size) this.addToTail(this.committedEvents(batch, result.outcomes));
    this.options.faultHook?.('after-append-before-ack');
    batch.forEach((p, i) => {
      const o = result.outcomes[i];
      if (o.ok) p.resolve({ nextExpectedRevision: o.nextExpectedRevision, position: o.position, duplicate: o.duplicate });
      else if (o.kind === 'wrong-version') p.reject(new WrongExpectedVersionError(o.streamId, o.expected, o.actual));
      else {
        const partial = new Error(o.message);
        partial.name = 'PartialDuplicateError';
        p.reject(partial);
      }
    });
    for (const p of batch) for (const ev of p.encoded.events) this.appendedTypes.add(ev.type);
    this.notifyAppended();
  }

  /**
   * The events a group stored, in position order. Their data and metadata are the appender's own objects, not a
   * decode of the stored JSON (a parse per event on this thread, for followers that mostly read only the id): the
   * event store owns what is appended, and event data is plain JSON that nobody changes once it is appended. Under
   * test (NODE_ENV=test) both halves of that are checked: the objects must equal their stored JSON, and are frozen,
   * so a later change throws.
   */
  private committedEvents(batch: PendingAppend[], outcomes: AppendOutcome[]): StoredEvent[] {
    const stored: StoredEvent[] = [];
    batch.forEach((p, i) => {
      const o = outcomes[i];
      if (!o.ok || o.duplicate) return;
      const { streamId, events } = p.encoded;
      const first = o.nextExpectedRevision - BigInt(events.length) + 1n;
      events.forEach((ev, k) => {
        const source = p.events[k];
        const data = source.data ?? null;
        const metadata = source.metadata ?? {};
        if (CHECK_TAIL) checkTailEvent(ev, data, metadata);
        stored.push({ id: ev.id, streamId, revision: first + BigInt(k), position: o.positions[k], type: ev.type, data, metadata });
      });
    });
    return stored;
  }

  /** Wakes the subscriptions once for every append committed in this turn of the event loop. */
  private notifyAppended(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      const types = this.appendedTypes;
      this.appendedTypes = new Set();
      this.notifier.emit('appended', types);
    });
  }

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
    this.tailMovedLocally = true;
    this.trimTail();
  }

  /**
   * Keeps at most tailSize events, and none that every subscription of this process has read: where the followers keep
   * up with this process's own commits (the HTTP thread beside a projection worker: the usage ledger, plans, prices),
   * a decoded event leaves the tail within a poll interval instead of staying in the heap for the next 50,000 events
   * (the 5-minute soak's heap floor on the HTTP thread went from 177 MB to 70-81 MB).
   */
  private trimTail(): void {
    let start = this.tailStart;
    const live = this.tail.length - start;
    if (live > this.tailSize) start += live - this.tailSize;
    const read = this.readByEverySubscription();
    if (read !== null && read > this.tailFrom) start = Math.max(start, read >= this.tailTo ? this.tail.length : this.tailIndexAfter(read));
    if (start > this.tailStart) {
      this.tailFrom = this.tail[start - 1].position;
      // Let the trimmed events die young: the array would hold them until the next slice.
      this.tail.fill(undefined as unknown as StoredEvent, this.tailStart, start);
      this.tailStart = start;
    }
    // Drop the dead prefix in chunks, so trimming costs O(1) per event.
    if (this.tailStart > 4096 && this.tailStart * 2 > this.tail.length) {
      this.tail = this.tail.slice(this.tailStart);
      this.tailStart = 0;
    }
  }

  /** How many decoded events the shared tail holds (specs, diagnostics). */
  get tailEvents(): number {
    return this.tail.length - this.tailStart;
  }

  /** The lowest position every subscription has read up to (null without subscriptions). */
  private readByEverySubscription(): bigint | null {
    let min: bigint | null = null;
    for (const s of this.subscriptions) {
      const p = s.lastPosition;
      if (min === null || p < min) min = p;
    }
    return min;
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
        const now = Date.now();
        if (this.tailMovedLocally && now - this.fileCheckedAt < this.pollIntervalMs) return { window: [], end: after };
        this.fileCheckedAt = now;
        this.tailMovedLocally = false;
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
      pollIntervalMs: this.pollIntervalMs,
      types: options.types,
      read: async (after, max) => {
        // Behind the shared tail, SQLite skips the other types (no row of them is decoded): a plan or price follower
        // that starts near the log's beginning costs one scan, not a JSON parse of every usage event after it.
        if (options.types && (this.tailSize <= 0 || after < this.tailFrom)) return this.readTypes(after, max, options.types);
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

  private readonly typedReads = new Map<string, Database.Statement>();

  /**
   * Up to `max` events of the given types after `after`, up to the head as it stands now; `end` is the last one's
   * position when the read was full, else that head (every event of those types up to it was read).
   */
  private readTypes(after: bigint, max: number, types: readonly string[]): { events: StoredEvent[]; end: bigint; full: boolean } {
    const key = types.join('\u0000');
    let stmt = this.typedReads.get(key);
    if (!stmt) {
      stmt = this.db.prepare(`SELECT * FROM events WHERE position > ? AND position <= ? AND type IN (${types.map(() => '?').join(', ')}) ORDER BY position ASC LIMIT ?`).safeIntegers(true);
      this.typedReads.set(key, stmt);
    }
    const head = this.head();
    if (head <= after) return { events: [], end: after, full: false };
    const events = (stmt.all(after, head, ...types, max) as Row[]).map(toStored);
    const full = events.length >= max;
    return { events, end: full ? events[events.length - 1].position : head, full };
  }

  async headPosition(): Promise<bigint> {
    return this.head();
  }

  private head(): bigint {
    return (this.stmt.head.get() as { head: bigint | null }).head ?? -1n;
  }

  /** How often a subscription looks for other processes' appends (and the least time between two such looks). */
  private get pollIntervalMs(): number {
    return this.options.pollIntervalMs ?? 50;
  }

  async ping(): Promise<void> {
    if (this.writer.failure && !this.closed) throw new EventStoreUnavailableError(`The event store cannot append: ${this.writer.failure}`);
    this.db.prepare('SELECT 1').get();
  }

  /** Stops taking appends, commits those queued (after the group in flight), then closes the writer and the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.committing || this.queue.length) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        if (!this.committing) this.flush();
      });
      this.drained = null;
    }
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.writer.close();
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
