import { EventStore, StoredEvent, Subscription } from '../event-store/port';
import { BatchUnit, ReadStore } from '../read-store/port';
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
 * Runs projections: one subscription follows the log for all of them (each event is read once); each batch is applied
 * to every projection in one read-store unit (`applyBatches` where the store has it), each projection with its own
 * checkpoint, skipping what its stored checkpoint already covers, so a redelivered event (or a second instance) has
 * no effect. A projection whose handler fails is taken out of the loop (the others go on), as its own subscription
 * used to stop; a rebuild takes a projection out of the loop, replays it and puts it back.
 */
export class ProjectionRunner {
  private readonly errors = new Map<string, string>();
  private readonly byName = new Map<string, Projection>();
  /** Projections in the shared loop, in registration order. */
  private readonly shared = new Set<Projection>();
  /** Projections whose handler failed: stopped where they stood, with the error (cleared by a rebuild or restart). */
  private readonly failed = new Map<string, { error: unknown; seen: bigint }>();
  private sub: Subscription | null = null;
  private readonly wantedBy = new Map<Projection, Set<string>>();

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadStore,
    projections: Projection[],
    private readonly options: { batchSize?: number; minBatchIntervalMs?: number; onError?: (name: string, err: unknown) => void } = {},
  ) {
    for (const p of projections) {
      if (this.byName.has(p.name)) throw new Error(`Two projections are named ${p.name}`);
      this.byName.set(p.name, p);
      this.wantedBy.set(p, new Set(p.eventTypes));
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Projection | undefined {
    return this.byName.get(name);
  }

  async start(): Promise<void> {
    const joining: Array<{ p: Projection; after: bigint }> = [];
    for (const p of this.byName.values()) {
      const after = await this.store.getCheckpoint(p.name);
      if (after === -1n) for (const c of p.collections) await this.store.drop(c); // left by a rebuild that died
      await p.setup?.(this.store);
      joining.push({ p, after });
    }
    await this.join(joining);
  }

  /**
   * (Re)starts the shared subscription with the given projections added, from the lowest position any of them (or
   * the loop so far) has seen, in registration order.
   */
  private async join(joining: Array<{ p: Projection; after: bigint }>): Promise<void> {
    let after: bigint | null = null;
    const running = this.sub;
    if (running) {
      await running.stop();
      this.sub = null;
      if (this.shared.size) after = running.lastPosition;
    }
    for (const { p, after: a } of joining) {
      this.errors.delete(p.name);
      this.failed.delete(p.name);
      if (after === null || a < after) after = a;
    }
    const members = new Set([...this.shared, ...joining.map((j) => j.p)]);
    this.shared.clear();
    for (const p of this.byName.values()) if (members.has(p)) this.shared.add(p);
    this.subscribe(after ?? -1n);
  }

  private subscribe(after: bigint): void {
    if (!this.shared.size) return;
    const types = new Set<string>();
    for (const p of this.shared) for (const t of p.eventTypes) types.add(t);
    this.sub = this.events.subscribeToAll((events) => this.applyShared(events), {
      after,
      types: [...types],
      batchSize: this.options.batchSize ?? 2000,
      minBatchIntervalMs: this.options.minBatchIntervalMs ?? 50,
    });
  }

  /** Takes a projection out of the shared loop (waiting for the batch in flight). */
  private async leave(p: Projection): Promise<boolean> {
    const was = this.shared.has(p) || this.failed.has(p.name);
    if (!this.shared.has(p)) return was;
    const running = this.sub;
    if (running) await running.stop();
    this.sub = null;
    this.shared.delete(p);
    if (running) this.subscribe(running.lastPosition);
    return was;
  }

  /** One batch of the shared loop: every projection's events in one unit; a failing projection leaves the loop. */
  private async applyShared(events: StoredEvent[]): Promise<void> {
    for (;;) {
      const parts: Array<{ p: Projection; events: StoredEvent[] }> = [];
      for (const p of this.shared) {
        const wanted = this.wantedBy.get(p)!;
        const mine = events.filter((e) => wanted.has(e.type));
        if (mine.length) parts.push({ p, events: mine });
      }
      if (!parts.length) return;
      let culprit: Projection | null = null;
      const units: BatchUnit[] = parts.map(({ p, events: mine }) => ({
        projection: p.name,
        position: mine[mine.length - 1].position,
        apply: async (batch, checkpoint) => {
          try {
            await this.handleAll(p, mine, batch, checkpoint);
          } catch (err) {
            culprit = p;
            throw err;
          }
        },
      }));
      try {
        if (this.store.applyBatches) await this.store.applyBatches(units);
        else for (const u of units) await this.store.applyBatch(u.projection, u.position, u.apply);
      } catch (err) {
        // Not a handler's failure (the store's): every projection of the loop stops, as each one's subscription would.
        const failing: Projection[] = culprit ? [culprit] : [...this.shared];
        for (const p of failing) this.fail(p, err);
        if (!culprit) throw err;
        // The unit rolled back: apply the batch again without the failing projection.
        continue;
      }
      for (const { p, events: mine } of parts) p.afterCommit?.(mine);
      return;
    }
  }

  private fail(p: Projection, err: unknown): void {
    this.errors.set(p.name, (err as Error).message);
    this.options.onError?.(p.name, err);
    this.shared.delete(p);
    this.failed.set(p.name, { error: err, seen: this.sub?.lastPosition ?? -1n });
  }

  private async handleAll(p: Projection, events: StoredEvent[], batch: Parameters<BatchUnit['apply']>[0], checkpoint: bigint): Promise<void> {
    let handled = false;
    for (const e of events) if (e.position > checkpoint) { await p.handle(e, batch); handled = true; crashPoint('mid-projection-batch'); }
    if (handled && p.endBatch) await p.endBatch(batch);
  }

  /** Applies one batch with its checkpoint. Public for the replay CLI and tests of redelivery. */
  async apply(p: Projection, events: StoredEvent[]): Promise<void> {
    if (!events.length) return;
    const last = events[events.length - 1].position;
    try {
      await this.store.applyBatch(p.name, last, (batch, checkpoint) => this.handleAll(p, events, batch, checkpoint));
    } catch (err) {
      this.errors.set(p.name, (err as Error).message);
      this.options.onError?.(p.name, err);
      throw err;
    }
    p.afterCommit?.(events);
  }

  /** Waits until every projection has applied every event stored when called. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const firstFailure = this.failed.values().next().value as { error: unknown } | undefined;
    if (firstFailure) throw firstFailure.error;
    const all = Promise.all(this.sub ? [this.sub.caughtUp()] : []);
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
      const failed = this.failed.get(p.name);
      const running = this.shared.has(p) || !!failed;
      const last = failed ? failed.seen : this.shared.has(p) && this.sub ? this.sub.lastPosition : -1n;
      // A projection whose last events were of other types is caught up though its checkpoint trails the head.
      const seen = last > cp ? last : cp;
      out.push({ name: p.name, checkpoint: cp.toString(), lag: await this.eventsAfter(seen, head), running, error: this.errors.get(p.name) ?? null });
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
    const running = await this.leave(p);
    // Checkpoint first: a crash before the drops finish leaves checkpoint -1, and start() empties the collections then.
    await this.store.resetCheckpoint(name);
    for (const c of p.collections) { await this.store.drop(c); crashPoint('mid-rebuild'); }
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
    if (running) await this.join([{ p, after }]);
    return { events: done, ms: Date.now() - started };
  }

  async stop(): Promise<void> {
    const running = this.sub;
    this.sub = null;
    this.shared.clear();
    this.failed.clear();
    if (running) await running.stop();
  }
}
