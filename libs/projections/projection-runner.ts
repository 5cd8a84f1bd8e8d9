import { EventStore, StoredEvent, Subscription } from '../event-store/port';
import { BatchOutcome, BatchUnit, blamedProjection, isStoreFault, ReadStore } from '../read-store/port';
import { Projection } from './projection';
import { crashPoint } from '../faults/crash-point';
import { Mutex } from '../concurrency/mutex';

/** The pause before a batch that failed on the store's fault is tried again, doubling up to the second. */
const STORE_RETRY_FIRST_MS = 100;
const STORE_RETRY_MAX_MS = 5_000;
/** The pause before a rejoin that failed on the store's fault is tried again. */
const REJOIN_RETRY_MS = 1_000;

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
 *
 * Checkpoint continuity (several instances on one store): each unit says after which position the loop has seen
 * every event of the projection's types (`followed`: the last of its events delivered, or where it joined), and the
 * store applies it only when the stored checkpoint is at or past that. When the checkpoint moved back (a rebuild on
 * another instance reset it) the unit is refused; the projection leaves the loop and joins again from its stored
 * checkpoint, so it never writes on top of a read model that lacks events before its batch.
 */
export class ProjectionRunner {
  private readonly errors = new Map<string, string>();
  /** Projections whose last batch failed on the store's fault and is being tried again (their error is that one). */
  private readonly retrying = new Set<string>();
  private readonly byName = new Map<string, Projection>();
  /** Projections in the shared loop, in registration order. */
  private readonly shared = new Set<Projection>();
  /** Projections whose handler failed: stopped where they stood, with the error (cleared by a rebuild or restart). */
  private readonly failed = new Map<string, { error: unknown; seen: bigint }>();
  private sub: Subscription | null = null;
  private readonly wantedBy = new Map<Projection, Set<string>>();
  /**
   * Per projection in the loop: the position up to which the loop has delivered every event of its types (the last
   * of them delivered, or where it joined). Its units' `after`.
   */
  private readonly followed = new Map<Projection, bigint>();
  /** Projections whose unit was refused, waiting to join the loop again from their stored checkpoint. */
  private readonly rejoining = new Set<Projection>();
  private rejoinTask: Promise<void> | null = null;
  /** Serialises changes of the loop's membership (join, leave, rejoin, stop); never taken by the batch handler. */
  private readonly membership = new Mutex();
  private stopped = false;
  /** Resolved (and replaced) whenever the shared subscription is replaced: wakes caughtUp() waiting on an old one. */
  private subChanged = deferred();

  constructor(
    private readonly events: EventStore,
    private readonly store: ReadStore,
    projections: Projection[],
    private readonly options: {
      batchSize?: number;
      minBatchIntervalMs?: number;
      onError?: (name: string, err: unknown) => void;
      /** After a projection's `afterCommit`: the events of a committed (or skipped) batch, e.g. to tell another thread. */
      afterCommit?: (p: Projection, events: StoredEvent[]) => void;
      /** When a rebuild has emptied a projection's read model, before it replays. */
      onRebuild?: (p: Projection) => void;
    } = {},
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
    this.stopped = false;
    const joining: Array<{ p: Projection; after: bigint }> = [];
    for (const p of this.byName.values()) {
      let after = await this.store.getCheckpoint(p.name);
      if (after === -1n) {
        // Left by a rebuild that died (on a store without resetProjection): empty it. Atomic where the store can, so
        // another instance's batch landing meanwhile is undone with its checkpoint (and that instance re-follows).
        await this.resetAndDrop(p);
      }
      await p.setup?.(this.store);
      joining.push({ p, after });
    }
    await this.membership.run(() => this.join(joining));
  }

  /** Checkpoint to -1 and empty collections: one unit where the store supports it. */
  private async resetAndDrop(p: Projection): Promise<void> {
    if (this.store.resetProjection) {
      await this.store.resetProjection(p.name, p.collections);
      return;
    }
    // Checkpoint first: a crash before the drops finish leaves checkpoint -1, and start() empties the collections then.
    await this.store.resetCheckpoint(p.name);
    for (const c of p.collections) await this.store.drop(c);
  }

  /**
   * (Re)starts the shared subscription with the given projections added, from the lowest position any of them (or
   * the loop so far) has seen, in registration order. Each joiner follows from its `after` (its stored checkpoint).
   * Called with the membership lock held.
   */
  private async join(joining: Array<{ p: Projection; after: bigint }>): Promise<void> {
    let after: bigint | null = null;
    const running = this.sub;
    if (running) {
      await running.stop();
      this.setSub(null);
      if (this.shared.size) after = running.lastPosition;
    }
    if (this.stopped) return;
    for (const { p, after: a } of joining) {
      this.errors.delete(p.name);
      this.failed.delete(p.name);
      this.rejoining.delete(p);
      this.followed.set(p, a);
      if (after === null || a < after) after = a;
    }
    const members = new Set([...this.shared, ...joining.map((j) => j.p)]);
    this.shared.clear();
    for (const p of this.byName.values()) if (members.has(p)) this.shared.add(p);
    this.subscribe(after ?? -1n);
  }

  private setSub(sub: Subscription | null): void {
    this.sub = sub;
    const changed = this.subChanged;
    this.subChanged = deferred();
    changed.resolve();
  }

  private subscribe(after: bigint): void {
    if (!this.shared.size || this.stopped) return;
    const types = new Set<string>();
    for (const p of this.shared) for (const t of p.eventTypes) types.add(t);
    this.setSub(this.events.subscribeToAll((events) => this.applyShared(events), {
      after,
      types: [...types],
      batchSize: this.options.batchSize ?? 2000,
      minBatchIntervalMs: this.options.minBatchIntervalMs ?? 50,
    }));
  }

  /** Takes a projection out of the shared loop (waiting for the batch in flight). Called with the membership lock. */
  private async leave(p: Projection): Promise<boolean> {
    const wasRejoining = this.rejoining.delete(p); // a pending rejoin would put it back mid-rebuild
    const was = this.shared.has(p) || this.failed.has(p.name) || wasRejoining;
    if (!this.shared.has(p)) return was;
    const running = this.sub;
    if (running) await running.stop();
    this.setSub(null);
    this.shared.delete(p);
    this.followed.delete(p);
    if (running) this.subscribe(running.lastPosition);
    return was;
  }

  /**
   * Takes refused projections out of the loop now (the handler's next batches leave them out) and, outside the
   * handler (a subscription cannot be stopped from its own handler), joins them again from their stored checkpoints.
   */
  private scheduleRejoin(refused: Projection[]): void {
    for (const p of refused) {
      this.shared.delete(p);
      this.followed.delete(p);
      this.rejoining.add(p);
    }
    if (this.rejoinTask) return;
    const task = (async () => {
      await Promise.resolve();
      await this.membership.run(async () => {
        if (this.stopped || !this.rejoining.size) return;
        const joining: Array<{ p: Projection; after: bigint }> = [];
        for (const p of this.byName.values()) if (this.rejoining.has(p)) joining.push({ p, after: await this.store.getCheckpoint(p.name) });
        await this.join(joining);
      });
    })();
    const settled: Promise<void> = task
      .catch(async (err) => {
        if (isStoreFault(err)) {
          // The store's fault (its checkpoint could not be read): they stay waiting to rejoin, tried again after a pause.
          for (const p of this.rejoining) this.errors.set(p.name, `rejoining after a read-store error: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, REJOIN_RETRY_MS));
          return;
        }
        for (const p of [...this.rejoining]) {
          this.rejoining.delete(p);
          this.fail(p, err);
        }
      })
      .finally(() => {
        if (this.rejoinTask === settled) this.rejoinTask = null;
        if (this.rejoining.size && !this.stopped) this.scheduleRejoin([]);
      });
    // The settled chain, not the task: a waiter (caughtUp) must not spin on a rejected task during the pause.
    this.rejoinTask = settled;
  }

  /**
   * One batch of the shared loop: every projection's events in one unit. A projection whose handler fails (or whose
   * documents the store refused) leaves the loop and the batch is applied again without it. A failure that is the
   * store's (marked by the adapter: unreachable, timed out, a conflict; or any error outside the handlers, such as a
   * commit that failed) fails no projection: nothing of the unit was applied, and the same batch is tried again after
   * a pause (100 ms doubling to 5 s), with the error in each projection's status meanwhile, until it lands or the
   * runner stops.
   */
  private async applyShared(events: StoredEvent[]): Promise<void> {
    let pauseMs = STORE_RETRY_FIRST_MS;
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
        after: this.followed.get(p) ?? -1n,
        apply: async (batch, checkpoint) => {
          try {
            await this.handleAll(p, mine, batch, checkpoint);
          } catch (err) {
            if (!isStoreFault(err)) culprit = p;
            throw err;
          }
        },
      }));
      const refused = new Set<string>();
      try {
        if (this.store.applyBatches) for (const n of await this.store.applyBatches(units)) refused.add(n);
        else for (const u of units) if ((await this.store.applyBatch(u.projection, u.position, u.apply, u.after)) === 'refused') refused.add(u.projection);
      } catch (err) {
        const blamed = (culprit as Projection | null) ?? this.byName.get(blamedProjection(err) ?? '');
        if (blamed) {
          this.fail(blamed, err);
          // The unit rolled back: apply the batch again without the failing projection.
          continue;
        }
        for (const { p } of parts) {
          this.errors.set(p.name, `retrying after a read-store error: ${(err as Error).message}`);
          this.retrying.add(p.name);
          this.options.onError?.(p.name, err);
        }
        await new Promise((r) => setTimeout(r, pauseMs));
        pauseMs = Math.min(pauseMs * 2, STORE_RETRY_MAX_MS);
        // Stopping: leave the batch unapplied (the checkpoint says where the next start resumes).
        if (this.stopped) return;
        continue;
      }
      const out: Projection[] = [];
      for (const { p, events: mine } of parts) {
        if (this.retrying.delete(p.name)) this.errors.delete(p.name);
        if (refused.has(p.name)) {
          out.push(p);
          continue;
        }
        const position = mine[mine.length - 1].position;
        if (position > (this.followed.get(p) ?? -1n)) this.followed.set(p, position);
        this.committed(p, mine);
      }
      if (out.length) this.scheduleRejoin(out);
      return;
    }
  }

  private committed(p: Projection, events: StoredEvent[]): void {
    p.afterCommit?.(events);
    this.options.afterCommit?.(p, events);
  }

  private fail(p: Projection, err: unknown): void {
    this.errors.set(p.name, (err as Error).message);
    this.options.onError?.(p.name, err);
    this.shared.delete(p);
    this.followed.delete(p);
    this.failed.set(p.name, { error: err, seen: this.sub?.lastPosition ?? -1n });
  }

  private async handleAll(p: Projection, events: StoredEvent[], batch: Parameters<BatchUnit['apply']>[0], checkpoint: bigint): Promise<void> {
    let handled = false;
    for (const e of events) if (e.position > checkpoint) { await p.handle(e, batch); handled = true; crashPoint('mid-projection-batch'); }
    if (handled && p.endBatch) await p.endBatch(batch);
  }

  /**
   * Applies one batch with its checkpoint. Public for the replay CLI and tests of redelivery. With `after` (the
   * position after which `events` holds every event of the projection's types), the batch is applied only if it
   * continues from the stored checkpoint (see BatchUnit); without it, no continuity is checked (as before).
   * Returns what became of it: 'applied', 'skipped' (the checkpoint covers it) or 'refused'.
   */
  async apply(p: Projection, events: StoredEvent[], after?: bigint): Promise<BatchOutcome> {
    if (!events.length) return 'skipped';
    const last = events[events.length - 1].position;
    let outcome: BatchOutcome;
    try {
      outcome = await this.store.applyBatch(p.name, last, (batch, checkpoint) => this.handleAll(p, events, batch, checkpoint), after);
    } catch (err) {
      this.errors.set(p.name, (err as Error).message);
      this.options.onError?.(p.name, err);
      throw err;
    }
    // As in the loop, a skipped batch is passed on too (caches follow the events, whoever applied them).
    if (outcome !== 'refused') this.committed(p, events);
    return outcome;
  }

  /** Waits until every projection has applied every event stored when called. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Projections did not catch up within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      for (;;) {
        const firstFailure = this.failed.values().next().value as { error: unknown } | undefined;
        if (firstFailure) throw firstFailure.error;
        if (this.rejoinTask) {
          // A refused projection joins again: wait for it, then for the loop it joined.
          await Promise.race([this.rejoinTask.catch(() => undefined), timeout]);
          continue;
        }
        const sub = this.sub;
        if (!sub) return;
        const changed = this.subChanged.promise;
        const done = await Promise.race([sub.caughtUp().then(() => true), changed.then(() => false), timeout]);
        // Caught up only if the loop that did it is still the loop and nobody left it meanwhile.
        if (done && this.sub === sub && !this.rejoinTask && !this.rejoining.size) return;
        if (done && this.sub === sub && this.rejoining.size && !this.rejoinTask) this.scheduleRejoin([]);
      }
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
      const running = this.shared.has(p) || this.rejoining.has(p) || !!failed;
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
   * Returns the number of events applied and the time taken. Every replayed batch continues from the one before
   * (`after`): if another instance reset the checkpoint meanwhile (its own rebuild), the replay goes on from the
   * stored checkpoint instead of writing over a gap; another instance's loop may also carry the replay forward
   * (its batches continue from the rebuild's checkpoint too), which this replay then skips.
   */
  async rebuild(name: string, onProgress?: RebuildProgress): Promise<{ events: number; ms: number }> {
    const p = this.byName.get(name);
    if (!p) throw new Error(`Unknown projection ${name}`);
    const started = Date.now();
    const running = await this.membership.run(() => this.leave(p));
    // Checkpoint and collections together (where the store can): no batch of another instance lands in between.
    await this.resetAndDrop(p);
    this.options.onRebuild?.(p);
    crashPoint('mid-rebuild');
    await p.setup?.(this.store);
    const head = await this.events.headPosition();
    let after = -1n;
    /** Where the read model stands: every event of p's types up to here is applied (by us or by another instance). */
    let followed = -1n;
    let done = 0;
    const batchSize = 2000;
    const wanted = new Set(p.eventTypes);
    for (;;) {
      const window = await this.events.readAll({ after, maxCount: batchSize });
      if (!window.length) break;
      const events = window.filter((e) => wanted.has(e.type));
      if (events.length) {
        const outcome = await this.apply(p, events, followed);
        if (outcome === 'refused') {
          // The checkpoint went back (a rebuild elsewhere): replay on from where it stands now.
          followed = after = await this.store.getCheckpoint(name);
          continue;
        }
        followed = events[events.length - 1].position;
        crashPoint('mid-rebuild');
      }
      after = window[window.length - 1].position;
      done += events.length;
      onProgress?.(done, after, head);
    }
    // Join again from the stored checkpoint: the loop re-checks continuity from there.
    if (running) await this.membership.run(async () => this.join([{ p, after: await this.store.getCheckpoint(name) }]));
    return { events: done, ms: Date.now() - started };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.membership.run(async () => {
      const running = this.sub;
      this.setSub(null);
      this.shared.clear();
      this.failed.clear();
      this.rejoining.clear();
      this.followed.clear();
      if (running) await running.stop();
    });
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
