import { EventEmitter } from 'events';
import { StoredEvent, Subscription, SubscriptionHandler } from './port';

export interface PollingSubscriptionOptions {
  after: bigint;
  batchSize: number;
  pollIntervalMs: number;
  types?: readonly string[];
  /** Reads up to `max` events after `after`; `end` is the position the read covered (it moves past filtered-out events). */
  read: (after: bigint, max: number) => Promise<{ events: StoredEvent[]; end: bigint; full?: boolean }>;
  head: () => Promise<bigint>;
  /**
   * Emits 'appended' when this process appended (with the set of types appended, when known): wakes the loop at once
   * instead of waiting for the poll; a subscription to some types only wakes when one of them was appended.
   */
  notifier?: EventEmitter;
  handler: SubscriptionHandler;
  /** Under load, the least time between the starts of two handler calls (see SubscribeOptions). */
  minBatchIntervalMs?: number;
  onStop?: (s: PollingSubscription) => void;
}

/** A batch of at least this many events means the log is busy: only then does minBatchIntervalMs pause the loop. */
const LOADED_BATCH = 100;

/**
 * Catch-up then live, for stores without a push feed across processes: read after the last position until empty,
 * then wait for a local append or the poll interval. One handler call at a time, in order, no gap, no repeat.
 */
export class PollingSubscription implements Subscription {
  private position: bigint;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private waiters: Array<{ target: bigint; resolve: () => void; reject: (e: unknown) => void }> = [];
  private readonly onAppended = (types?: ReadonlySet<string>) => {
    if (this.pausing) return;
    if (types && this.o.types && !this.o.types.some((t) => types.has(t))) return;
    this.wake?.();
  };
  /** In a pause between batches under load: a local append does not cut it short (caughtUp() and stop() do). */
  private pausing = false;
  private failure: unknown = null;
  private lastFull = false;
  private lastCount = 0;

  constructor(private readonly o: PollingSubscriptionOptions) {
    this.position = o.after;
  }

  get lastPosition(): bigint {
    return this.position;
  }

  start(): void {
    this.o.notifier?.on('appended', this.onAppended);
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let got = 0;
      let handledAt = 0;
      try {
        const { events, end, full } = await this.o.read(this.position, this.o.batchSize);
        if (this.stopped) break;
        this.lastFull = full ?? events.length >= this.o.batchSize;
        this.lastCount = events.length;
        if (events.length) {
          handledAt = Date.now();
          await this.o.handler(events);
        }
        got = end > this.position ? 1 : 0;
        this.position = end;
        this.settleWaiters();
      } catch (err) {
        // A handler failure stops the subscription where it stands; the owner restarts it from its checkpoint.
        this.failure = err;
        this.stopped = true;
        for (const w of this.waiters) w.reject(err);
        this.waiters = [];
        break;
      }
      if (got === 0) await this.sleep();
      else if (handledAt && this.o.minBatchIntervalMs && !this.waiters.length) {
        // A full batch means more is waiting: read it at once. Otherwise let the next appends gather for a moment.
        const pause = handledAt + this.o.minBatchIntervalMs - Date.now();
        if (pause > 0 && !this.lastFull && this.lastCount >= LOADED_BATCH && !this.stopped) {
          this.pausing = true;
          try {
            await this.sleep(pause);
          } finally {
            this.pausing = false;
          }
        }
      }
    }
    this.o.notifier?.off('appended', this.onAppended);
  }

  private settleWaiters(): void {
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.position >= w.target ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private sleep(ms = this.o.pollIntervalMs): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  async caughtUp(): Promise<void> {
    if (this.failure) throw this.failure;
    const head = await this.o.head();
    // The handler may have failed while the head was read: a waiter added now would never be settled.
    if (this.failure) throw this.failure;
    if (this.position >= head) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ target: head, resolve, reject });
      this.wake?.();
    });
  }

  get error(): unknown {
    return this.failure;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
    this.o.onStop?.(this);
  }
}
