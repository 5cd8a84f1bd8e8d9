import { EventStore, StoredEvent, Subscription } from '../event-store/port';
import { ReadStore } from '../read-store/port';
import { Projection } from './projection';
import { crashPoint } from '../faults/crash-point';

/** Lag is counted in events up to this many (more is reported as this number). */
export const LAG_COUNT_LIMIT = 10_001;

export interface ProjectionStatus {
  name: string;
  checkpoint: string;
  /** Events stored after the last one this projection has seen, counted up to LAG_COUNT_LIMIT. */
  lag: number;
  running: boolean;
  error: string | null;
}

export interface RebuildProgress {
  (done: number, position: bigint, head: bigint): void;
}

/**
 * Runs projections: each follows the log from its checkpoint with its own subscription; each batch of events is
 * applied in one read-store unit with the new checkpoint, skipping what the stored checkpoint already covers, so a
 * redelivered event (or a second instance) has no effect.
 */
export class ProjectionRunner {
  private readonly subs = new Map<string, Subscription>();
  private readonly errors = new Map<string, string>();
  private readonly byName = new Map<string, Projection>();

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadStore,
    projections: Projection[],
    private readonly options: { batchSize?: number; onError?: (name: string, err: unknown) => void } = {},
  ) {
    for (const p of projections) {
      if (this.byName.has(p.name)) throw new Error(`Two projections are named ${p.name}`);
      this.byName.set(p.name, p);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Projection | undefined {
    return this.byName.get(name);
  }

  async start(): Promise<void> {
    for (const p of this.byName.values()) {
      await p.setup?.(this.store);
      await this.startOne(p);
    }
  }

  private async startOne(p: Projection): Promise<void> {
    const checkpoint = await this.store.getCheckpoint(p.name);
    this.errors.delete(p.name);
    const sub = this.events.subscribeToAll((events) => this.apply(p, events), {
      after: checkpoint,
      types: p.eventTypes,
      batchSize: this.options.batchSize ?? 500,
    });
    this.subs.set(p.name, sub);
  }

  /** Applies one batch with its checkpoint. Public for the replay CLI and tests of redelivery. */
  async apply(p: Projection, events: StoredEvent[]): Promise<void> {
    if (!events.length) return;
    const last = events[events.length - 1].position;
    try {
      await this.store.applyBatch(p.name, last, async (batch, checkpoint) => {
        let handled = false;
        for (const e of events) if (e.position > checkpoint) { await p.handle(e, batch); handled = true; crashPoint('mid-projection-batch'); }
        if (handled && p.endBatch) await p.endBatch(batch);
      });
    } catch (err) {
      this.errors.set(p.name, (err as Error).message);
      this.options.onError?.(p.name, err);
      throw err;
    }
    p.afterCommit?.(events);
  }

  /** Waits until every projection has applied every event stored when called. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const all = Promise.all([...this.subs.values()].map((s) => s.caughtUp()));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Projections did not catch up within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([all, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.events.headPosition();
    const out: ProjectionStatus[] = [];
    for (const p of this.byName.values()) {
      const cp = await this.store.getCheckpoint(p.name);
      const sub = this.subs.get(p.name);
      // A projection whose last events were of other types is caught up though its checkpoint trails the head.
      const seen = sub ? (sub.lastPosition > cp ? sub.lastPosition : cp) : cp;
      out.push({ name: p.name, checkpoint: cp.toString(), lag: await this.eventsAfter(seen, head), running: !!sub, error: this.errors.get(p.name) ?? null });
    }
    return out;
  }

  /**
   * Counts events rather than subtracting positions: positions are dense on SQLite but byte offsets on EventStoreDB.
   */
  private async eventsAfter(seen: bigint, head: bigint): Promise<number> {
    if (head <= seen) return 0;
    return (await this.events.readAll({ after: seen, maxCount: LAG_COUNT_LIMIT })).length;
  }

  /**
   * Drops the projection's collections, resets its checkpoint and replays the log from the first event.
   * Returns the number of events applied and the time taken.
   */
  async rebuild(name: string, onProgress?: RebuildProgress): Promise<{ events: number; ms: number }> {
    const p = this.byName.get(name);
    if (!p) throw new Error(`Unknown projection ${name}`);
    const started = Date.now();
    const running = this.subs.get(name);
    if (running) {
      await running.stop();
      this.subs.delete(name);
    }
    for (const c of p.collections) { await this.store.drop(c); crashPoint('mid-rebuild'); }
    await this.store.resetCheckpoint(name);
    await p.setup?.(this.store);
    const head = await this.events.headPosition();
    let after = -1n;
    let done = 0;
    const batchSize = 2000;
    for (;;) {
      const window = await this.events.readAll({ after, maxCount: batchSize });
      if (!window.length) break;
      const wanted = new Set(p.eventTypes);
      const events = window.filter((e) => wanted.has(e.type));
      if (events.length) { await this.apply(p, events); crashPoint('mid-rebuild'); }
      after = window[window.length - 1].position;
      done += events.length;
      onProgress?.(done, after, head);
    }
    if (running) await this.startOne(p);
    return { events: done, ms: Date.now() - started };
  }

  async stop(): Promise<void> {
    await Promise.all([...this.subs.values()].map((s) => s.stop()));
    this.subs.clear();
  }
}
