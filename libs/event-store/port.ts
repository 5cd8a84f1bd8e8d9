/**
 * The event store port: append-only streams with optimistic concurrency, a global order, and a
 * catch-up-then-live subscription. Adapters: SQLite (embedded default) and EventStoreDB.
 */

/** What the appender expects the stream to be. A number is the exact revision of the stream's last event. */
export type ExpectedRevision = 'no_stream' | 'any' | 'stream_exists' | bigint;

export const NO_STREAM = 'no_stream' as const;
export const ANY = 'any' as const;
export const STREAM_EXISTS = 'stream_exists' as const;

export interface EventMetadata {
  /** The id of the request or command that started the chain of work. */
  correlationId?: string;
  /** The id of the message (command or event) that caused this event. */
  causationId?: string;
  /** ISO time from the injected clock at which the event was decided. */
  occurredAt: string;
  [key: string]: unknown;
}

/** An event to append. `id` is a UUID; appending an id that is already stored stores nothing. */
export interface NewEvent<T extends string = string, D = unknown> {
  id: string;
  type: T;
  data: D;
  metadata: EventMetadata;
}

export interface StoredEvent<T extends string = string, D = unknown> {
  id: string;
  streamId: string;
  /** 0-based revision of the event within its stream. */
  revision: bigint;
  /** Position in the global order ("$all"); strictly increasing, comparable across streams. */
  position: bigint;
  type: T;
  data: D;
  metadata: EventMetadata;
}

export interface AppendResult {
  /** The revision of the stream's last event after the append. */
  nextExpectedRevision: bigint;
  /** The global position of the last event appended (or of the stored duplicate). */
  position: bigint;
  /** True when every event of the append was already stored (an idempotent retry): nothing was written. */
  duplicate: boolean;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events after this position. Defaults to the beginning (-1n). */
  after?: bigint;
  maxCount?: number;
  /** Only events of these types (server-side filter where the adapter supports it). */
  types?: readonly string[];
}

export interface SubscribeOptions {
  /** Exclusive: deliver events after this position; -1n (default) means from the first event. */
  after?: bigint;
  types?: readonly string[];
  /** Max events handed to the handler at once. */
  batchSize?: number;
  /**
   * Optional: under load, at least this long between the starts of two handler calls, so one call takes the events
   * of several appends (a wait for caughtUp() cuts the pause short; an idle subscription reacts at once).
   */
  minBatchIntervalMs?: number;
}

/** Handler of a subscription: called with events in global order, one batch at a time, never concurrently. */
export type SubscriptionHandler = (events: StoredEvent[]) => Promise<void> | void;

export interface Subscription {
  /** Stops delivery; resolves once no handler call is running. */
  stop(): Promise<void>;
  /** Resolves when the subscription has delivered every event up to the store's head at the time of the call. */
  caughtUp(): Promise<void>;
  /** The position of the last event handed to the handler and completed. */
  readonly lastPosition: bigint;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  subscribeToAll(handler: SubscriptionHandler, options?: SubscribeOptions): Subscription;
  /** The global position of the last stored event, -1n when the store is empty. */
  headPosition(): Promise<bigint>;
  /** Health probe: throws when the store is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised when the stream's revision does not match the expected one. Maps to HTTP 409 after retries. */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint | 'no_stream',
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${String(actual)}`);
    this.name = 'WrongExpectedVersionError';
  }
}

/** Raised when the store cannot be opened or written (corrupt file, full disk, lock). The message says what. */
export class EventStoreUnavailableError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'EventStoreUnavailableError';
  }
}

/** DI token for the EventStore port. */
export const EVENT_STORE = Symbol('EVENT_STORE');
