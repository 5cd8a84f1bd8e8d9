import { uuidV5 } from '../../ids/name-based-uuid';
import {
  ANY as ESDB_ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM as ESDB_NO_STREAM,
  START,
  STREAM_EXISTS as ESDB_STREAM_EXISTS,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type Position,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  AppendResult,
  EventMetadata,
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

/**
 * The EventStoreDB adapter (production). Thin: every port call is one call of `@eventstore/db-client` v6.
 *
 * Global positions. `$all` is ordered by (commit, prepare); the events of one multi-event append share a commit
 * position, so the commit position alone is not unique. The port's bigint position packs both:
 * `commit << 24 | (prepare - commit + 2^23)` (an append is far below ESDB's 1 MiB max append size, so the offset fits),
 * strictly increasing in `$all` order and decodable back to the `{commit, prepare}` a read or subscription needs.
 *
 * Idempotence is ESDB's own (same event id, same stream, same expected revision: acknowledged, not written again).
 * Event ids that are not UUIDs (ESDB requires UUIDs) are mapped to a name-based UUID (v5) and the original id is kept
 * in the metadata, so retries still hit ESDB's idempotence check.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();

  private constructor(private readonly client: EventStoreDBClient) {}

  /** Connects and checks the server answers (a clear error at start instead of on the first request). */
  static async connect(url: string): Promise<EventStoreDbEventStore> {
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(url);
    } catch (err) {
      throw new EventStoreUnavailableError(`Invalid EVENTSTORE_URL: ${(err as Error).message}`, err);
    }
    const store = new EventStoreDbEventStore(client);
    try {
      await store.ping();
    } catch (err) {
      await client.dispose().catch(() => undefined);
      throw new EventStoreUnavailableError(`Cannot reach EventStoreDB at ${redact(url)}: ${(err as Error).message}`, err);
    }
    return store;
  }

  async append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const data = events.map((e) =>
      jsonEvent({
        id: toUuid(e.id),
        type: e.type,
        data: (e.data ?? null) as any,
        metadata: toEsdbMetadata(e),
      }),
    );
    try {
      const result = await this.client.appendToStream(streamId, data, { expectedRevision: toEsdbExpected(expectedRevision) });
      if (result.position) return { nextExpectedRevision: result.nextExpectedRevision, position: encodePosition(result.position), duplicate: false };
      // ESDB answers an idempotent retry with success and no position: the events were stored before.
      const stored = await this.findStored(streamId, events);
      return { nextExpectedRevision: result.nextExpectedRevision, position: stored?.position ?? -1n, duplicate: true };
    } catch (err) {
      if (err instanceof EsdbWrongExpectedVersionError) {
        // A retry whose expected revision is now stale (the first attempt was written): acknowledge it, as the port says.
        const stored = await this.findStored(streamId, events);
        if (stored) return { nextExpectedRevision: stored.last, position: stored.position, duplicate: true };
        throw new WrongExpectedVersionError(streamId, expectedRevision, err.actualVersion);
      }
      throw err;
    }
  }

  /** When every event of the append is already in the stream (looking at its last 1,000 events), where they are. */
  private async findStored(streamId: string, events: NewEvent[]): Promise<{ position: bigint; last: bigint } | null> {
    const recent = await this.readStream(streamId, { direction: 'backwards', maxCount: 1000 });
    if (!recent.length) return null;
    const byId = new Map(recent.map((e) => [e.id, e]));
    const found = events.map((e) => byId.get(e.id));
    if (found.some((f) => !f)) return null;
    return { position: found[found.length - 1]!.position, last: recent[0].revision };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const backwards = options.direction === 'backwards';
    const out: StoredEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision: options.fromRevision ?? (backwards ? END : START),
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      });
      for await (const resolved of read) {
        const e = toStored(resolved);
        if (e) out.push(e);
      }
    } catch (err) {
      if (err instanceof StreamNotFoundError) return [];
      throw err;
    }
    return out;
  }

  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const max = options.maxCount ?? 1000;
    const wanted = options.types?.length ? new Set(options.types) : null;
    const out: StoredEvent[] = [];
    const after = options.after ?? -1n;
    // readAll has no server-side filter in this client: page through $all, skipping system events and other types.
    let floor = after;
    for (;;) {
      let seen = 0;
      let progressed = false;
      const fromPosition = floor < 0n ? START : decodePosition(floor);
      for await (const resolved of this.client.readAll({ fromPosition, direction: FORWARDS, maxCount: 1000 })) {
        seen++;
        const raw = resolved.event?.position ? encodePosition(resolved.event.position) : null;
        if (raw === null || raw <= floor) continue; // fromPosition is inclusive
        floor = raw;
        progressed = true;
        const e = toStored(resolved);
        if (!e || (wanted && !wanted.has(e.type))) continue;
        out.push(e);
        if (out.length >= max) return out;
      }
      if (seen < 1000 || !progressed) return out;
    }
  }

  subscribeToAll(handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    const sub = new EsdbSubscription(this.client, this, handler, options, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  async headPosition(): Promise<bigint> {
    return this.lastPositionOf();
  }

  /**
   * The position of the last user event (of one of `types` when given), reading $all backwards page by page: system
   * events ($stats, $metadata, projections' own) are not part of Tollgate's log. Gives up after `maxPages` pages.
   */
  async lastPositionOf(types?: readonly string[], maxPages = 20): Promise<bigint> {
    const wanted = types?.length ? new Set(types) : null;
    let from: Position | typeof END = END;
    for (let page = 0; page < maxPages; page++) {
      let seen = 0;
      let lastRaw: Position | undefined;
      for await (const resolved of this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: 500 })) {
        seen++;
        lastRaw = resolved.event?.position ?? lastRaw;
        const e = toStored(resolved);
        if (e && (!wanted || wanted.has(e.type))) return e.position;
      }
      if (seen < 500 || !lastRaw) return -1n;
      from = lastRaw;
    }
    return wanted ? this.lastPositionOf(undefined, maxPages) : -1n;
  }

  async ping(): Promise<void> {
    for await (const _ of this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1, deadline: 5000 })) break;
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }
}

/**
 * Catch-up then live over the client's subscribeToAll (fromPosition + a server-side filter): the server sends the
 * history after the position, then live events, in $all order. Events are handed over in batches of what is buffered,
 * one handler call at a time; checkpoints of the filtered subscription move `lastPosition` past skipped events.
 */
class EsdbSubscription implements Subscription {
  private position: bigint;
  private stream: AllStreamSubscription | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private waiters: Array<{ target: bigint; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: unknown = null;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly store: EventStoreDbEventStore,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscribeOptions,
    private readonly onStop: (s: EsdbSubscription) => void,
  ) {
    this.position = options.after ?? -1n;
  }

  get lastPosition(): bigint {
    return this.position;
  }

  start(): void {
    const types = this.options.types;
    const checkpointReached = (_s: unknown, p: Position) => {
      const pos = encodePosition(p);
      if (pos > this.position) {
        this.position = pos;
        this.settle();
      }
    };
    const filter = types?.length
      ? eventTypeFilter({ regex: `^(?:${types.map(escapeRegex).join('|')})$`, checkpointReached })
      : excludeSystemEvents({ checkpointReached });
    this.stream = this.client.subscribeToAll({
      fromPosition: this.position < 0n ? START : decodePosition(this.position),
      filter,
    });
    const poke = () => this.wake?.();
    this.stream.on('readable', poke).on('end', poke).on('caughtUp', poke).on('error', (err) => {
      this.failure ??= err;
      poke();
    });
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    const max = this.options.batchSize ?? 500;
    const stream = this.stream!;
    while (!this.stopped) {
      const batch: StoredEvent[] = [];
      let item: AllStreamResolvedEvent | null;
      while (batch.length < max && (item = stream.read() as AllStreamResolvedEvent | null) !== null) {
        const e = toStored(item);
        // fromPosition is inclusive on the server: drop what the subscriber already has.
        if (e && e.position > this.position) batch.push(e);
      }
      if (batch.length) {
        try {
          await this.handler(batch);
        } catch (err) {
          this.fail(err);
          break;
        }
        this.position = batch[batch.length - 1].position;
        this.settle();
        continue;
      }
      if (this.failure) {
        this.fail(this.failure);
        break;
      }
      if (stream.readableEnded) break;
      await new Promise<void>((resolve) => {
        this.wake = () => {
          this.wake = null;
          resolve();
        };
      });
    }
  }

  private fail(err: unknown): void {
    this.failure = err;
    this.stopped = true;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
  }

  private settle(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.position >= w.target ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  async caughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    // Caught up means: every event this subscription would deliver, up to now, was delivered.
    const head = await this.store.lastPositionOf(this.options.types);
    if (this.position >= head) return;
    await new Promise<void>((resolve, reject) => this.waiters.push({ target: head, resolve, reject }));
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      await this.stream?.unsubscribe().catch(() => undefined);
      this.wake?.();
    }
    await this.running;
    this.onStop(this);
  }
}

const OFFSET = 1n << 23n;

export function encodePosition(p: Position): bigint {
  return (p.commit << 24n) | (p.prepare - p.commit + OFFSET);
}

export function decodePosition(pos: bigint): Position {
  const commit = pos >> 24n;
  return { commit, prepare: commit + (pos & 0xffffffn) - OFFSET };
}

function toEsdbExpected(e: ExpectedRevision): AppendExpectedRevision {
  if (e === 'no_stream') return ESDB_NO_STREAM;
  if (e === 'any') return ESDB_ANY;
  if (e === 'stream_exists') return ESDB_STREAM_EXISTS;
  return e;
}

function toEsdbMetadata(e: NewEvent): Record<string, unknown> {
  const m: Record<string, unknown> = { ...e.metadata, eventId: e.id };
  // ESDB's own names, so its projections and UI link causation chains.
  if (e.metadata.correlationId) m.$correlationId = e.metadata.correlationId;
  if (e.metadata.causationId) m.$causationId = e.metadata.causationId;
  return m;
}

function toStored(resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent | null {
  const e = resolved.event;
  if (!e || e.type.startsWith('$') || e.streamId.startsWith('$')) return null;
  const raw = (e.metadata && !(e.metadata instanceof Uint8Array) ? e.metadata : {}) as Record<string, unknown>;
  const { $correlationId: _c, $causationId: _k, eventId, ...metadata } = raw;
  const position = e.position ? encodePosition(e.position) : -1n;
  return {
    id: typeof eventId === 'string' ? eventId : e.id,
    streamId: e.streamId,
    revision: e.revision,
    position,
    type: e.type,
    data: e.isJson ? e.data : JSON.parse(Buffer.from(e.data as Uint8Array).toString('utf8')),
    metadata: metadata as unknown as EventMetadata,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Namespace of Tollgate's name-based event ids (a fixed random UUID). */
const NAMESPACE = Buffer.from('6f1d3b0c9a4e4c2fa0b8d2e57c1f9e34', 'hex');

/** The id itself when it is a UUID, else a UUID v5 of it (deterministic, so a retry maps to the same UUID). */
export function toUuid(id: string): string {
  if (UUID.test(id)) return id.toLowerCase();
  return uuidV5(id, NAMESPACE);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
