import { StoredEvent } from '../event-store/port';
import { ProjectionBatch, ReadStore } from '../read-store/port';

/**
 * A projection keeps read models from the event log. It declares the event types it handles and the collections it
 * owns; the runner delivers events in global order, in batches, and commits the batch's writes with the checkpoint.
 * Handlers must be idempotent for a batch replayed after a crash that did not commit (the transaction makes that
 * moot on SQLite; on MongoDB the transaction does the same).
 */
export interface Projection {
  readonly name: string;
  readonly eventTypes: readonly string[];
  readonly collections: readonly string[];
  /** Creates indexes; called once at start and after a rebuild's drop. */
  setup?(store: ReadStore): Promise<void>;
  handle(event: StoredEvent, batch: ProjectionBatch): Promise<void>;
  /** Optional: called once after a batch's events were handled, in the same unit (writes what handle buffered). */
  endBatch?(batch: ProjectionBatch): Promise<void>;
  /** Optional: called after each committed batch (for in-memory caches that follow the read model). */
  afterCommit?(events: StoredEvent[]): void;
  /**
   * Optional: what `afterCommit` reads of each event's data when it runs on another thread than the one that applied
   * the batch (the HTTP thread's copy, after the projection worker committed): the names of the data fields, or
   * `false` when it only follows batches it applied itself (nothing is sent). Absent: the whole events. With fields,
   * the other thread gets one event per distinct combination of them in the batch (type and those fields only), so
   * such an `afterCommit` must depend only on which combinations the batch held, not on how many events held each.
   */
  readonly afterCommitReads?: readonly string[] | false;
}

export const PROJECTIONS = Symbol('PROJECTIONS');
