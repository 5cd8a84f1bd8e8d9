import { randomUUID } from 'crypto';
import type { Readable } from 'stream';
import { uuidV5 } from '../../ids/name-based-uuid';
import {
  ANY as ESDB_ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM as ESDB_NO_STREAM,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError as EsdbWrongExpectedVersionError,
  MaxAppendSizeExceededError,
  eventTypeFilter,
  excludeSystemEvents,
  jsonEvent,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
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
 * The EventStoreDB adapter (production), over the unchanged `@eventstore/db-client` v6.
 *
 * Positions. Every event written through gRPC is its own prepare, committed at its own position (commit == prepare),
 * so the port's position is the commit position itself: strictly increasing in `$all` order, a byte offset in the
 * log (not dense), exact as a bigint. An event whose commit and prepare differ (an explicit transaction of the old
 * TCP client) is refused on read: Tollgate's log is written by this adapter only.
 *
 * Event ids are stored once, whatever the stream or expected revision, across restarts (the port's promise; the
 * server's own idempotence is weaker: for `any` a bounded in-memory cache, otherwise only a retry with the same
 * expected revision). Each append first claims its ids: one stream per id, `eventid-<uuid>`, appended with
 * `no_stream`. The first id's claim (the intent) holds the whole append, with the exact revision it will be written
 * at; the data is then appended at that exact revision, so anyone who finds an intent whose data is missing (its
 * writer crashed or timed out) completes it, and the server's index-based check makes a second completion a no-op.
 * A data append at revision R that fails its check can never succeed later (streams only grow), so an `any` intent
 * moves to the stream's new revision by a compare-and-set on the claim stream, and an exact one is released.
 * Cost per fresh append: one claim append per event (the intent carries the payload a second time), one data append;
 * `any`/`stream_exists` add a read of the stream's last revision. A duplicate costs a read of the claim and of the data.
 * Claim events have `$`-prefixed types, so they are system events to every reader and filter.
 */
export interface EventStoreDbOptions {
  /** Bound on one append call (each gRPC append), default 10 s. */
  appendDeadlineMs?: number;
  /** Bound on the wait for each message of a read (the first, and each next one), default 10 s. */
  readDeadlineMs?: number;
  /** The server's MaxAppendSize (default 1 MiB): larger appends are refused before they are sent. */
  maxAppendSize?: number;
  /** First and largest pause between two attempts to resubscribe (default 100 ms, 5 s). */
  resubscribeBackoffMs?: [number, number];
}

/** An append larger than the server accepts in one call; it is refused before anything is written. */
export class AppendTooLargeError extends Error {
  constructor(readonly streamId: string, readonly bytes: number | null, readonly max: number) {
    super(`Append to ${streamId}${bytes === null ? '' : ` is ${bytes} bytes;`} EventStoreDB takes at most ${max} bytes in one append (MaxAppendSize). Split it into several appends.`);
    this.name = 'AppendTooLargeError';
  }
}

const CLAIM_PREFIX = 'eventid-';
const INTENT = '$TollgateAppendIntent';
const POINTER = '$TollgateIdInAppend';
const RELEASED = '$TollgateIdReleased';
const MAX_ATTEMPTS = 6;

interface EncodedEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
}
interface Intent {
  owner: string;
  stream: string;
  /** The exact revision the data is appended after ("-1": no stream). */
  after: string;
  /** `move`: any / stream_exists, which may move to a newer revision; `exact`: no_stream or a revision. */
  mode: 'move' | 'exact';
  existsRequired: boolean;
  events: EncodedEvent[];
}
type ClaimState =
  | { kind: 'none' }
  | { kind: 'intent'; revision: bigint; intent: Intent }
  | { kind: 'pointer'; revision: bigint; lead: string }
  | { kind: 'released'; revision: bigint };

export class EventStoreDbEventStore implements EventStore {
  private readonly subscriptions = new Set<EsdbSubscription>();
  private readonly appendDeadlineMs: number;
  private readonly readDeadlineMs: number;
  private readonly maxAppendSize: number;
  readonly backoff: [number, number];

  private constructor(
    private readonly client: EventStoreDBClient,
    options: EventStoreDbOptions,
  ) {
    this.appendDeadlineMs = options.appendDeadlineMs ?? 10_000;
    this.readDeadlineMs = options.readDeadlineMs ?? 10_000;
    this.maxAppendSize = options.maxAppendSize ?? 1024 * 1024;
    this.backoff = options.resubscribeBackoffMs ?? [100, 5_000];
  }

  /** Connects and checks the server answers (a clear error at start instead of on the first request). */
  static async connect(url: string, options: EventStoreDbOptions = {}): Promise<EventStoreDbEventStore> {
    let client: EventStoreDBClient;
    try {
      client = EventStoreDBClient.connectionString(url);
    } catch (err) {
      throw new EventStoreUnavailableError(`Invalid EVENTSTORE_URL: ${(err as Error).message}`, err);
    }
    const store = new EventStoreDbEventStore(client, options);
    try {
      await store.ping();
    } catch (err) {
      await client.dispose().catch(() => undefined);
      throw new EventStoreUnavailableError(`Cannot reach EventStoreDB at ${redact(url)}: ${(err as Error).message}`, err);
    }
    return store;
  }

  // ---- appends ----

  async append(streamId: string, events: NewEvent[], expectedRevision: ExpectedRevision = 'any'): Promise<AppendResult> {
    if (events.length === 0) throw new Error('append needs at least one event');
    const encoded: EncodedEvent[] = events.map((e) => ({ id: toUuid(e.id), type: e.type, data: e.data ?? null, metadata: toEsdbMetadata(e) }));
    // The intent carries the payload too: both must fit in one append.
    const bytes = Buffer.byteLength(JSON.stringify(encoded)) + 512;
    if (bytes > this.maxAppendSize) throw new AppendTooLargeError(streamId, bytes, this.maxAppendSize);
    const owner = randomUUID();
    let lastError: unknown = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        const outcome = await this.appendOnce(streamId, encoded, expectedRevision, owner);
        if (outcome) return outcome;
        lastError = null;
      } catch (err) {
        if (!isTransient(err)) throw mapError(err, `append to ${streamId}`);
        // Safe to retry: the claim makes a second attempt find the first one's work.
        lastError = err;
        await sleep(50 * 2 ** attempt);
      }
    }
    throw lastError ? mapError(lastError, `append to ${streamId}`) : new EventStoreUnavailableError(`append to ${streamId}: the id claims kept changing (${MAX_ATTEMPTS} attempts)`);
  }

  /** One pass of the claim protocol: the outcome, or null to try again. */
  private async appendOnce(streamId: string, encoded: EncodedEvent[], expected: ExpectedRevision, owner: string): Promise<AppendResult | null> {
    const lead = encoded[0].id;
    // The common case first: the id was never claimed.
    const fresh = await this.claimAndWrite(streamId, encoded, expected, owner, -1n);
    if (fresh) return fresh;
    const state = await this.claimState(lead);
    if (state.kind === 'none') return null;
    const found = await this.settle(state, lead);
    if (found.kind === 'stored') return this.storedOutcome(found, streamId, encoded, owner);
    return this.claimAndWrite(streamId, encoded, expected, owner, found.nextClaimRevision);
  }

  /** Writes the intent at the claim stream's next revision (compare-and-set), the other ids' pointers, then the data. */
  private async claimAndWrite(streamId: string, encoded: EncodedEvent[], expected: ExpectedRevision, owner: string, claimAfter: bigint): Promise<AppendResult | null> {
    let after: bigint;
    try {
      after = await this.revisionToWriteAfter(streamId, expected);
    } catch (err) {
      // stream_exists on a missing stream: still a duplicate if the ids are stored (elsewhere), as the port says.
      if (!(err instanceof WrongExpectedVersionError) || claimAfter >= 0n) throw err;
      const state = await this.claimState(encoded[0].id);
      const found = state.kind === 'none' ? null : await this.settle(state, encoded[0].id);
      if (found?.kind === 'stored') return this.storedOutcome(found, streamId, encoded, owner);
      throw err;
    }
    const intent: Intent = { owner, stream: streamId, after: after.toString(), mode: typeof expected === 'bigint' || expected === 'no_stream' ? 'exact' : 'move', existsRequired: expected === 'stream_exists', events: encoded };
    const lead = encoded[0].id;
    if (!(await this.cas(claimStream(lead), INTENT, intent, claimAfter))) return null;
    const intentRevision = claimAfter + 1n;
    // The other ids point to the intent: claimed in parallel, optimistically (most were never claimed).
    const pointed = await Promise.all(encoded.slice(1).map((e) => this.claimPointer(e.id, lead)));
    if (pointed.includes(false)) {
      await this.cas(claimStream(lead), RELEASED, {}, intentRevision);
      throw partialDuplicate(streamId);
    }
    const done = await this.complete(lead, intentRevision, intent);
    if (done.kind === 'released') throw new WrongExpectedVersionError(streamId, expected, done.current);
    return { nextExpectedRevision: done.revision, position: done.position, duplicate: done.owner !== owner };
  }

  /** Points `id`'s claim at the lead's intent; false when the id belongs to another append that is stored. */
  private async claimPointer(id: string, lead: string): Promise<boolean> {
    if (await this.cas(claimStream(id), POINTER, { lead }, -1n)) return true;
    const state = await this.claimState(id);
    if (state.kind === 'pointer' && state.lead === lead) return true;
    if (state.kind === 'none') return false;
    const free = state.kind === 'released' || (await this.settle(state, id)).kind === 'free';
    if (!free) return false;
    const again = await this.claimState(id);
    if (again.kind === 'pointer' && again.lead === lead) return true;
    return again.kind === 'released' || again.kind === 'pointer' ? this.cas(claimStream(id), POINTER, { lead }, again.revision) : false;
  }

  /**
   * Follows a claim to its intent and makes sure the intent is settled: its data written (by whoever wrote the
   * intent, or now), or the intent released. `free`: the id is not stored and may be claimed at nextClaimRevision.
   */
  private async settle(state: ClaimState, id: string): Promise<{ kind: 'stored'; owner: string; intent: Intent; position: bigint; revision: bigint } | { kind: 'free'; nextClaimRevision: bigint }> {
    if (state.kind === 'none') return { kind: 'free', nextClaimRevision: -1n };
    if (state.kind === 'released') return { kind: 'free', nextClaimRevision: state.revision };
    if (state.kind === 'pointer') {
      const leadState = await this.claimState(state.lead);
      if (leadState.kind !== 'intent' || !leadState.intent.events.some((e) => e.id === id)) return { kind: 'free', nextClaimRevision: state.revision };
      const found = await this.settle(leadState, state.lead);
      return found.kind === 'stored' ? found : { kind: 'free', nextClaimRevision: state.revision };
    }
    const done = await this.complete(id, state.revision, state.intent);
    if (done.kind === 'released') {
      const again = await this.claimState(id);
      return { kind: 'free', nextClaimRevision: again.kind === 'none' ? -1n : (again as { revision: bigint }).revision };
    }
    return { kind: 'stored', owner: done.owner, intent: done.intent, position: done.position, revision: done.revision };
  }

  /**
   * Writes an intent's data at its exact revision (idempotent on the server: the same ids after the same revision).
   * A failed check at revision R is final, so an `any` intent moves to the current revision (compare-and-set on the
   * claim stream) and an exact one is released.
   */
  private async complete(lead: string, claimRevision: bigint, start: Intent): Promise<{ kind: 'stored'; owner: string; intent: Intent; position: bigint; revision: bigint } | { kind: 'released'; current: bigint | 'no_stream' }> {
    let intent = start;
    let revision = claimRevision;
    for (let i = 0; i < 100; i++) {
      // Writers racing on one stream with `any` take turns; a short random pause spreads them out.
      if (i > 0) await sleep(Math.random() * Math.min(20, 2 * i));
      const after = BigInt(intent.after);
      const data = intent.events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data as any, metadata: e.metadata }));
      try {
        const r = await this.client.appendToStream(intent.stream, data, { expectedRevision: after < 0n ? ESDB_NO_STREAM : after, deadline: this.appendDeadlineMs });
        if (!r.success || !r.position) throw new EventStoreUnavailableError(`append to ${intent.stream}: the server did not confirm the write`);
        return { kind: 'stored', owner: intent.owner, intent, position: positionOf(r.position), revision: after + BigInt(intent.events.length) };
      } catch (err) {
        if (!(err instanceof EsdbWrongExpectedVersionError)) throw err;
        const current = typeof err.actualVersion === 'bigint' ? err.actualVersion : 'no_stream';
        if (intent.mode === 'exact' || (intent.existsRequired && current === 'no_stream')) {
          if (await this.cas(claimStream(lead), RELEASED, {}, revision)) return { kind: 'released', current };
        } else {
          const moved: Intent = { ...intent, after: (current === 'no_stream' ? -1n : current).toString() };
          if (await this.cas(claimStream(lead), INTENT, moved, revision)) {
            intent = moved;
            revision += 1n;
            continue;
          }
        }
        // Someone else moved or released the claim meanwhile: follow what it says now.
        const now = await this.claimState(lead);
        if (now.kind !== 'intent') return { kind: 'released', current };
        intent = now.intent;
        revision = now.revision;
      }
    }
    throw new EventStoreUnavailableError(`append to ${intent.stream}: its revision kept moving`);
  }

  private async storedOutcome(found: { owner: string; intent: Intent; position: bigint; revision: bigint }, streamId: string, encoded: EncodedEvent[], owner: string): Promise<AppendResult> {
    const ids = new Set(found.intent.events.map((e) => e.id));
    if (!encoded.every((e) => ids.has(e.id))) throw partialDuplicate(streamId);
    const last = encoded[encoded.length - 1].id;
    // The position of this append's last event within the stored append (the intent's own last is found.position).
    let position = found.position;
    const index = found.intent.events.findIndex((e) => e.id === last);
    if (index !== found.intent.events.length - 1) {
      const stored = await this.readStream(found.intent.stream, { fromRevision: BigInt(found.intent.after) + 1n + BigInt(index), maxCount: 1 });
      position = stored[0]?.position ?? position;
    }
    // This call's own append, finished on a retry after a lost answer: fresh, at the revision it was written at.
    if (found.owner === owner) return { nextExpectedRevision: found.revision, position, duplicate: false };
    const head = await this.lastRevision(streamId);
    return { nextExpectedRevision: head ?? -1n, position, duplicate: true };
  }

  private async revisionToWriteAfter(streamId: string, expected: ExpectedRevision): Promise<bigint> {
    if (typeof expected === 'bigint') return expected;
    if (expected === 'no_stream') return -1n;
    const last = await this.lastRevision(streamId);
    if (expected === 'stream_exists' && last === null) throw new WrongExpectedVersionError(streamId, expected, 'no_stream');
    return last ?? -1n;
  }

  /** Appends one event at `after` (-1: no stream); false when the stream moved (someone else's claim won). */
  private async cas(stream: string, type: string, data: unknown, after: bigint): Promise<boolean> {
    const expectedRevision: AppendExpectedRevision = after < 0n ? ESDB_NO_STREAM : after;
    try {
      const r = await this.client.appendToStream(stream, [jsonEvent({ type, data: data as any })], { expectedRevision, deadline: this.appendDeadlineMs });
      if (!r.success) return false;
      return true;
    } catch (err) {
      if (err instanceof EsdbWrongExpectedVersionError) return false;
      throw err;
    }
  }

  private async claimState(id: string): Promise<ClaimState> {
    let last: ResolvedEvent | null = null;
    await this.collect(`read of ${claimStream(id)}`, () => this.client.readStream(claimStream(id), { direction: BACKWARDS, fromRevision: END, maxCount: 1 }), (r) => {
      last = r;
      return false;
    });
    const e = (last as ResolvedEvent | null)?.event;
    if (!e) return { kind: 'none' };
    if (e.type === INTENT) return { kind: 'intent', revision: e.revision, intent: e.data as unknown as Intent };
    if (e.type === POINTER) return { kind: 'pointer', revision: e.revision, lead: (e.data as { lead: string }).lead };
    return { kind: 'released', revision: e.revision };
  }

  private async lastRevision(streamId: string): Promise<bigint | null> {
    let revision: bigint | null = null;
    await this.collect(`read of ${streamId}`, () => this.client.readStream(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 }), (r) => {
      revision = r.event?.revision ?? null;
      return false;
    });
    return revision;
  }

  // ---- reads ----

  /**
   * Runs one read to its end, or until `onEvent` returns false, each message within the read deadline. A read stopped early (or
   * past its deadline) cancels its gRPC call and keeps its stream flowing to the end: leaving a for-await would only
   * pause the client's stream, and a call that stays paused stays open (and keeps `dispose()` waiting) for good.
   * Transient failures are retried (a read has no side effect). A missing stream reads as nothing.
   */
  private async collect(what: string, open: () => Readable & { cancel(): Promise<void> }, onEvent: (r: ResolvedEvent) => boolean | void, reset?: () => void, attempts = 3): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const read = open();
      try {
        await new Promise<void>((resolve, reject) => {
          let settled = false;
          const finish = (err?: unknown) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (err) reject(err);
            else resolve();
          };
          const stop = () => void read.cancel().catch(() => undefined);
          // The deadline bounds the wait for each message, not the whole read: a large page keeps going while the
          // server keeps answering, a hung server is given up on within the deadline.
          let timer: NodeJS.Timeout;
          const arm = () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              stop();
              finish(new EventStoreUnavailableError(`EventStoreDB did not answer the ${what} within ${this.readDeadlineMs} ms`));
            }, this.readDeadlineMs);
          };
          arm();
          read.on('data', (r: ResolvedEvent) => {
            if (settled) return;
            arm();
            let more: boolean | void;
            try {
              more = onEvent(r);
            } catch (err) {
              stop();
              return finish(err);
            }
            if (more === false) {
              stop();
              finish();
            }
          });
          read.on('end', () => finish());
          read.on('error', (err) => finish(err));
        });
        return;
      } catch (err) {
        if (err instanceof StreamNotFoundError) return;
        if (err instanceof EventStoreUnavailableError || attempt >= attempts - 1 || !isTransient(err)) throw mapError(err, what);
        reset?.();
        await sleep(50 * 4 ** attempt);
      }
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    const backwards = options.direction === 'backwards';
    let out: StoredEvent[] = [];
    await this.collect(
      `read of ${streamId}`,
      () =>
        this.client.readStream(streamId, {
          direction: backwards ? BACKWARDS : FORWARDS,
          fromRevision: options.fromRevision ?? (backwards ? END : START),
          maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
        }),
      (r) => {
        const e = toStored(r);
        if (e) out.push(e);
      },
      () => (out = []),
    );
    return out;
  }

  /**
   * Up to `maxCount` events after `after`; with `types`, the events of those types among the next `maxCount` events
   * of the log (SQLite's rule: a page may hold fewer matches though more follow). System events and id claims are not
   * part of the log and do not count; this client's readAll has no server-side filter, so they are read and skipped
   * (about one claim per event). The call is cancelled as soon as the page is full.
   */
  async readAll(options: ReadAllOptions = {}): Promise<StoredEvent[]> {
    const max = options.maxCount ?? 1000;
    const after = options.after ?? -1n;
    const wanted = options.types?.length ? new Set(options.types) : null;
    let out: StoredEvent[] = [];
    let considered = 0;
    if (max <= 0) return out;
    await this.collect(
      'read of $all',
      // fromPosition is inclusive: the event at `after` is skipped.
      () => this.client.readAll({ fromPosition: after < 0n ? START : serverPosition(after), direction: FORWARDS }),
      (r) => {
        const e = toStored(r);
        if (!e || e.position <= after) return;
        considered++;
        if (!wanted || wanted.has(e.type)) out.push(e);
        if (considered >= max) return false;
      },
      () => {
        out = [];
        considered = 0;
      },
    );
    return out;
  }

  subscribeToAll(handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    const sub = new EsdbSubscription(this.client, this, handler, options, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(sub);
    sub.start();
    return sub;
  }

  /** The position of the last event of Tollgate's log (system events and id claims are not part of it); -1n if none. */
  async headPosition(): Promise<bigint> {
    let head = -1n;
    let from: bigint | null = null;
    for (;;) {
      let seen = 0;
      let oldest: bigint | null = null;
      await this.collect(
        'read of $all',
        () => this.client.readAll({ direction: BACKWARDS, fromPosition: from === null ? END : serverPosition(from), maxCount: 200 }),
        (r) => {
          seen++;
          oldest = r.event?.position ? positionOf(r.event.position) : oldest;
          const e = toStored(r);
          if (e) {
            head = e.position;
            return false;
          }
        },
      );
      if (head >= 0n || seen < 200 || oldest === null || oldest === from) return head;
      from = oldest;
    }
  }

  /** Whether an event a subscription to `types` would deliver lies in (after, upTo]; and how far the look reached. */
  async matchingAfter(after: bigint, upTo: bigint, types: readonly string[] | undefined): Promise<{ found: boolean; reached: bigint }> {
    const wanted = types?.length ? new Set(types) : null;
    let found = false;
    let reached = after;
    let seen = 0;
    await this.collect(
      'read of $all',
      () => this.client.readAll({ fromPosition: after < 0n ? START : serverPosition(after), direction: FORWARDS, maxCount: 500 }),
      (r) => {
        seen++;
        const p = r.event?.position ? positionOf(r.event.position) : null;
        if (p === null || p <= after) return;
        if (p > upTo) {
          reached = upTo;
          return false;
        }
        const e = toStored(r);
        if (e && (!wanted || wanted.has(e.type))) {
          found = true;
          return false;
        }
        reached = p;
      },
    );
    if (seen < 500 && !found) reached = upTo;
    return { found, reached };
  }

  /**
   * Health probe within the read deadline: the server answers a read, and no subscription of this instance has been
   * cut off from it for longer than 10 s (it is resubscribing meanwhile).
   */
  async ping(): Promise<void> {
    await this.collect('health read', () => this.client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }), () => false, undefined, 1);
    for (const s of this.subscriptions) {
      const down = s.disconnectedForMs();
      if (down > 10_000) throw new EventStoreUnavailableError(`A subscription to EventStoreDB has been disconnected for ${Math.round(down / 1000)} s (${s.lastError})`);
    }
  }

  /** State of each subscription of this instance (for /ready and diagnostics). */
  subscriptionStates(): Array<{ state: SubscriptionState; lastPosition: string; error: string | null }> {
    return [...this.subscriptions].map((s) => ({ state: s.state, lastPosition: s.lastPosition.toString(), error: s.lastError }));
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }
}

export type SubscriptionState = 'catching-up' | 'live' | 'reconnecting' | 'failed' | 'stopped';

/** A batch of at least this many events means the log is busy: only then does minBatchIntervalMs pause delivery. */
const LOADED_BATCH = 100;

type Item = { kind: 'event'; e: StoredEvent } | { kind: 'checkpoint'; position: bigint } | { kind: 'live' };

/**
 * Catch-up then live over the client's subscribeToAll (a server-side filter), resubscribing after any end or error
 * from the last position it handed over, with backoff. The client reports checkpoints and `caughtUp` when its
 * Transform *processes* them, ahead of events still in its buffer; each is queued behind the events the server sent
 * before it (the count received plus the client's buffered count at that moment), so `lastPosition` never passes an
 * event not yet handled.
 */
class EsdbSubscription implements Subscription {
  state: SubscriptionState = 'catching-up';
  lastError: string | null = null;
  /** Port position: every event this subscription would deliver up to here was handled. */
  private watermark: bigint;
  /** Position of the last event (or checkpoint) taken into the queue: the next subscription starts after it. */
  private queuedUpTo: bigint;
  private queue: Item[] = [];
  private received = 0;
  private markers: Array<{ after: number; item: Item }> = [];
  private stream: AllStreamSubscription | null = null;
  private stopped = false;
  private handling = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private waiters: Array<{ target: bigint; resolve: () => void; reject: (e: unknown) => void }> = [];
  private failure: unknown = null;
  private attempts = 0;
  private disconnectedAt: number | null = null;
  /** When the server last sent anything (an event, a checkpoint, go-live). */
  private lastMessageAt = 0;
  private readonly batchSize: number;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly store: EventStoreDbEventStore,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscribeOptions,
    private readonly onStop: (s: EsdbSubscription) => void,
  ) {
    this.watermark = this.queuedUpTo = options.after ?? -1n;
    this.batchSize = options.batchSize ?? 500;
  }

  get lastPosition(): bigint {
    return this.watermark;
  }

  disconnectedForMs(): number {
    return this.disconnectedAt === null ? 0 : Date.now() - this.disconnectedAt;
  }

  start(): void {
    this.connect();
    this.running = this.loop();
  }

  private connect(): void {
    if (this.stopped) return;
    const types = this.options.types;
    const checkpointReached = (_s: unknown, p: { commit: bigint; prepare: bigint }) => this.mark(stream, { kind: 'checkpoint', position: positionOf(p) });
    const filter = types?.length ? eventTypeFilter({ regex: `^(?:${types.map(escapeRegex).join('|')})$`, checkpointReached }) : excludeSystemEvents({ checkpointReached });
    const from = this.queuedUpTo;
    const stream = this.client.subscribeToAll({ fromPosition: from < 0n ? START : serverPosition(from), filter });
    this.stream = stream;
    this.received = 0;
    this.markers = [];
    stream.on('data', (r: AllStreamResolvedEvent) => {
      if (stream !== this.stream) return;
      this.received++;
      this.lastMessageAt = Date.now();
      this.attempts = 0;
      this.disconnectedAt = null;
      let e: StoredEvent | null;
      try {
        e = toStored(r);
      } catch (err) {
        this.fail(err);
        return;
      }
      // The starting position may be inclusive: drop what was already queued.
      if (e && e.position > this.queuedUpTo) {
        this.queuedUpTo = e.position;
        this.queue.push({ kind: 'event', e });
      }
      this.flushMarkers();
      if (this.queue.length >= 2 * this.batchSize) stream.pause();
      this.wake?.();
    });
    stream.on('confirmation', () => {
      this.disconnectedAt = null;
      this.lastError = null;
    });
    stream.on('caughtUp', () => this.mark(stream, { kind: 'live' }));
    const lost = (err?: unknown) => {
      if (stream !== this.stream || this.stopped) return;
      this.stream = null;
      this.lastError = err ? (err as Error).message : 'the subscription ended';
      this.state = 'reconnecting';
      this.disconnectedAt ??= Date.now();
      void stream.unsubscribe().catch(() => undefined);
      const [first, most] = this.store.backoff;
      const delay = Math.min(most, first * 2 ** this.attempts++);
      setTimeout(() => this.connect(), delay).unref?.();
    };
    stream.on('error', lost);
    stream.on('end', () => lost());
    stream.on('close', () => lost());
  }

  /** Queues a checkpoint or go-live behind every event the server sent before it. */
  private mark(stream: AllStreamSubscription, item: Item): void {
    if (stream !== this.stream) return;
    this.lastMessageAt = Date.now();
    const after = this.received + stream.readableLength;
    this.markers.push({ after, item });
    this.flushMarkers();
    this.wake?.();
  }

  private flushMarkers(): void {
    while (this.markers.length && this.markers[0].after <= this.received) {
      const { item } = this.markers.shift()!;
      if (item.kind === 'checkpoint') {
        if (item.position <= this.queuedUpTo) continue;
        this.queuedUpTo = item.position;
      }
      this.queue.push(item);
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const batch: StoredEvent[] = [];
      while (this.queue.length && batch.length < this.batchSize) {
        const item = this.queue[0];
        if (item.kind !== 'event' && batch.length) break;
        this.queue.shift();
        if (item.kind === 'event') batch.push(item.e);
        else if (item.kind === 'checkpoint') this.advance(item.position);
        else if (this.state === 'catching-up' || this.state === 'reconnecting') this.state = 'live';
      }
      if (this.stream?.isPaused() && this.queue.length < this.batchSize) this.stream.resume();
      if (!batch.length) {
        await new Promise<void>((resolve) => (this.wake = () => ((this.wake = null), resolve())));
        continue;
      }
      const startedAt = Date.now();
      this.handling = true;
      try {
        await this.handler(batch);
      } catch (err) {
        this.handling = false;
        this.fail(err);
        break;
      }
      this.handling = false;
      this.advance(batch[batch.length - 1].position);
      const pause = this.options.minBatchIntervalMs ? startedAt + this.options.minBatchIntervalMs - Date.now() : 0;
      if (pause > 0 && batch.length >= LOADED_BATCH && batch.length < this.batchSize && !this.waiters.length && !this.stopped) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, pause);
          const self = this;
          function done() {
            clearTimeout(t);
            self.wake = null;
            resolve();
          }
          this.wake = done;
        });
      }
    }
  }

  private advance(position: bigint): void {
    if (position > this.watermark) this.watermark = position;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.watermark >= w.target ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private fail(err: unknown): void {
    this.failure = err;
    this.state = 'failed';
    this.lastError = (err as Error)?.message ?? String(err);
    this.stopped = true;
    const s = this.stream;
    this.stream = null;
    void s?.unsubscribe().catch(() => undefined);
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.wake?.();
  }

  /**
   * Waits until every event of this subscription's types up to the log's head (as of the call) was handled. The head
   * may be an event of other types that only a checkpoint would cover: once live and idle, a read of the log between
   * here and the head shows whether anything is still to come, and if nothing is, the subscription stands at the head.
   */
  async caughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    const target = await this.store.headPosition();
    while (this.watermark < target) {
      if (this.failure) throw this.failure;
      if (this.stopped) return;
      // No event of these types in (watermark, reached] is in the log, so none is still to come there: whatever the
      // subscription delivers next lies beyond. Valid in catch-up too, but done only once the server has gone quiet
      // (live, or nothing for 50 ms): while it catches up, its own checkpoints move the position (every 32 events).
      const quiet = this.state === 'live' || Date.now() - this.lastMessageAt >= 50;
      if (!this.handling && this.queue.length === 0 && quiet) {
        const from = this.watermark;
        const look = await this.store.matchingAfter(from, target, this.options.types);
        if (!look.found) this.advance(look.reached);
        if (this.watermark >= target) return;
        if (!look.found && look.reached > from) continue;
      }
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        }, 25);
        const waiter = { target, resolve: () => (clearTimeout(t), resolve()), reject: (e: unknown) => (clearTimeout(t), reject(e)) };
        this.waiters.push(waiter);
      });
    }
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.state !== 'failed') this.state = 'stopped';
      const s = this.stream;
      this.stream = null;
      await s?.unsubscribe().catch(() => undefined);
      this.wake?.();
    }
    await this.running;
    this.onStop(this);
  }
}

function claimStream(id: string): string {
  return `${CLAIM_PREFIX}${id}`;
}

function partialDuplicate(streamId: string): Error {
  const err = new Error(`Some but not all events of this append are already stored (append to ${streamId})`);
  err.name = 'PartialDuplicateError';
  return err;
}

/** The port's position of an event: its commit position, which equals its prepare position for every gRPC write. */
function positionOf(p: { commit: bigint; prepare: bigint }): bigint {
  if (p.commit !== p.prepare) throw new EventStoreUnavailableError(`EventStoreDB event at commit ${p.commit} / prepare ${p.prepare}: written by an explicit transaction, which Tollgate's log never holds`);
  return p.commit;
}

function serverPosition(pos: bigint): { commit: bigint; prepare: bigint } {
  return { commit: pos, prepare: pos };
}

/** Failures a second attempt may get past: the client reconnects (to the leader) on these. */
function isTransient(err: unknown): boolean {
  const type = (err as { type?: string })?.type;
  return type === 'unavailable' || type === 'not-leader' || type === 'cancelled' || type === 'deadline-exceeded' || type === 'timeout';
}

/** The client's errors as the port's: the server not answering, refusing or failing is "unavailable", named. */
function mapError(err: unknown, what: string): unknown {
  if (err instanceof WrongExpectedVersionError || err instanceof EventStoreUnavailableError || err instanceof AppendTooLargeError) return err;
  if ((err as Error)?.name === 'PartialDuplicateError') return err;
  if (err instanceof MaxAppendSizeExceededError) return new AppendTooLargeError(what.replace(/^append to /, ''), null, err.maxAppendSize);
  const type = (err as { type?: string })?.type;
  if (type) {
    const why: Record<string, string> = {
      unavailable: 'the server is unavailable',
      'not-leader': 'the node is not the leader',
      'deadline-exceeded': 'no answer within the deadline (an append may still have been written; a retry is safe)',
      timeout: 'the server timed out (an append may still have been written; a retry is safe)',
      'access-denied': 'access denied (the user needs read access to $all and write access to Tollgate streams)',
      'stream-deleted': 'the stream is deleted',
      cancelled: 'the server cancelled the call',
    };
    return new EventStoreUnavailableError(`EventStoreDB ${what}: ${why[type] ?? type}: ${(err as Error).message}`, err);
  }
  return err;
}

function toEsdbMetadata(e: NewEvent): Record<string, unknown> {
  const m: Record<string, unknown> = { ...e.metadata, eventId: e.id };
  // ESDB's own names, so its UI links causation chains.
  if (e.metadata.correlationId) m.$correlationId = e.metadata.correlationId;
  if (e.metadata.causationId) m.$causationId = e.metadata.causationId;
  return m;
}

function toStored(resolved: ResolvedEvent | AllStreamResolvedEvent): StoredEvent | null {
  const e = resolved.event;
  if (!e || e.type.startsWith('$') || e.streamId.startsWith('$') || e.streamId.startsWith(CLAIM_PREFIX)) return null;
  const raw = (e.metadata && !(e.metadata instanceof Uint8Array) ? e.metadata : {}) as Record<string, unknown>;
  const { $correlationId: _c, $causationId: _k, eventId, ...metadata } = raw;
  return {
    id: typeof eventId === 'string' ? eventId : e.id,
    streamId: e.streamId,
    revision: e.revision,
    position: e.position ? positionOf(e.position) : -1n,
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
