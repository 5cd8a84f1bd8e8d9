import { Global, Inject, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { parentPort } from 'worker_threads';
import { APP_CONFIG, AppConfig, configSource, loadConfig } from '../config/config';
import { Clock, CLOCK, SystemClock } from '../../libs/clock';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { createEventStore } from '../../libs/event-store/create-event-store';
import { READ_STORE, ReadStore, Update } from '../../libs/read-store/port';
import { createReadStore } from '../../libs/read-store/create-read-store';
import { Projection, ProjectionRunner } from '../../libs/projections';
import type { StoredEvent } from '../../libs/event-store/port';
import type { RebuildProgress } from '../../libs/projections/projection-runner';
import { ProjectionRegistry } from './projection-registry';
import { MetricsService } from './metrics.service';
import { BusinessMetrics } from './business-metrics';
import { MetricsController } from './metrics.controller';
import type { Histogram } from 'prom-client';
import type { ProjectionControl } from './projection-control';
import type { FromWorker } from './projector-worker-host';
import { ProjectorWorkerHost } from './projector-worker-host';

export const PROJECTION_RUNNER = Symbol('PROJECTION_RUNNER');

/** The clock of a context built inside the projection worker (it mirrors the HTTP thread's clock). */
let contextClock: Clock | null = null;
export function useContextClock(clock: Clock): void {
  contextClock = clock;
}

const providers: Provider[] = [
  { provide: APP_CONFIG, useFactory: () => loadConfig() },
  { provide: CLOCK, useFactory: () => contextClock ?? new SystemClock() },
  {
    provide: EVENT_STORE,
    // Inside the projection worker the store commits on that thread: no writer thread of its own.
    inject: [APP_CONFIG, MetricsService],
    useFactory: async (c: AppConfig, metrics: MetricsService) =>
      timeAppends(
        await createEventStore({ eventStoreUrl: c.eventStoreUrl, dataDir: c.dataDir, sqliteSync: c.sqliteSync, faultPoints: c.faultPoints, sqliteWriter: c.role === 'projector' ? 'inline' : 'thread' }),
        metrics.histogram('tollgate_event_append_duration_seconds', 'Time from an append to its acknowledgement (durable), as its caller waits for it', [], APPEND_BUCKETS),
      ),
  },
  { provide: READ_STORE, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createReadStore({ mongodbUrl: c.mongodbUrl, dataDir: c.dataDir }) },
  ProjectionRegistry,
  {
    provide: PROJECTION_RUNNER,
    inject: [EVENT_STORE, READ_STORE, ProjectionRegistry, APP_CONFIG, CLOCK],
    // Projections are registered by the modules during init; the runner reads the registry when it starts.
    useFactory: (es: EventStore, rs: ReadStore, reg: ProjectionRegistry, config: AppConfig, clock: Clock) => new LazyProjectionRunner(es, rs, reg, config, clock),
  },
  MetricsService,
  BusinessMetrics,
];

/** Appends from 0.1 ms (a group commit without fsync) to 5 s (a store under trouble). */
const APPEND_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** Observes each append's duration: one clock read before, one when it settles (no extra promise in the caller's chain). */
function timeAppends(store: EventStore, histogram: Histogram): EventStore {
  const append = store.append.bind(store);
  store.append = (streamId, events, expectedRevision) => {
    const started = performance.now();
    const p = append(streamId, events, expectedRevision);
    const done = () => histogram.observe((performance.now() - started) / 1000);
    p.then(done, done);
    return p;
  };
  return store;
}

/**
 * The projections of this process, created once the modules have registered them: run on this thread (`inline`, and
 * inside the projection worker), or on the projection worker thread (`worker`, the server's default).
 */
export class LazyProjectionRunner {
  private control: ProjectionControl | null = null;
  private runner: ProjectionRunner | null = null;
  constructor(
    private readonly es: EventStore,
    private readonly rs: ReadStore,
    private readonly registry: ProjectionRegistry,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  get inWorker(): boolean {
    return this.config.projections === 'worker';
  }

  get(): ProjectionControl {
    if (!this.control) this.control = this.inWorker ? new ProjectorWorkerHost(this.registry.all(), configSource(this.config), this.clock, this.rs) : new InlineProjections(this.inline());
    return this.control;
  }

  /** The runner on this thread (inline mode only: the CLIs, tests, the worker's own context). */
  inline(): ProjectionRunner {
    if (this.inWorker) throw new Error('The projections run on the projection worker.');
    if (!this.runner) {
      const logger = new Logger('Projections');
      this.runner = new ProjectionRunner(this.es, this.rs, this.registry.all(), {
        onError: (name, err) => logger.error(`Projection ${name} failed: ${(err as Error).message}`),
        // Behind a burst, bigger batches write each user's documents once for more events.
        batchSize: this.config.projectionBatch,
        minBatchIntervalMs: this.config.projectionPauseMs,
        ...(this.config.role === 'projector' && parentPort ? reportingTo(parentPort) : {}),
      });
    }
    return this.runner;
  }

  /**
   * A best-effort write to a read model from the HTTP thread's hot path: done on the projection worker's connection
   * when there is one (the worker's batch transactions would otherwise make this thread wait for SQLite's lock).
   */
  async upsertOffThread(collection: string, id: string, update: Update): Promise<void> {
    if (this.inWorker && (this.get() as ProjectorWorkerHost).upsert(collection, id, update)) return;
    await this.rs.collection(collection).upsert(id, update);
  }

  async start(): Promise<void> {
    if (this.inWorker) return (this.get() as ProjectorWorkerHost).start();
    await this.inline().start();
  }
}

/** The ProjectionRunner as ProjectionControl. */
class InlineProjections implements ProjectionControl {
  constructor(private readonly runner: ProjectionRunner) {}
  get names(): string[] {
    return this.runner.names;
  }
  has(name: string): boolean {
    return !!this.runner.get(name);
  }
  status() {
    return this.runner.status();
  }
  caughtUp(timeoutMs?: number) {
    return this.runner.caughtUp(timeoutMs);
  }
  rebuild(name: string, onProgress?: RebuildProgress) {
    return this.runner.rebuild(name, onProgress);
  }
  stop() {
    return this.runner.stop();
  }
}

/**
 * Inside the projection worker: after each committed batch of a projection with `afterCommit`, and when a rebuild
 * empties a read model, tell the HTTP thread, whose own instances of the projections keep caches that depend on them.
 */
function reportingTo(port: NonNullable<typeof parentPort>) {
  return {
    afterCommit: (p: Projection, events: StoredEvent[]) => {
      if (!p.afterCommit || p.afterCommitReads === false) return;
      const fields = p.afterCommitReads;
      // Only what the other thread's afterCommit reads, once per distinct value: a structured clone of whole usage
      // events (two projections, every event of every batch) costs that thread dearly.
      const sent = fields ? distinctPicks(events, fields) : events;
      port.postMessage({ kind: 'committed', name: p.name, events: sent } satisfies FromWorker);
    },
    onRebuild: (p: Projection) => port.postMessage({ kind: 'rebuilt', name: p.name } satisfies FromWorker),
  };
}

/** One event (its type and the named data fields only) per distinct combination of the two, in first-seen order. */
function distinctPicks(events: readonly StoredEvent[], fields: readonly string[]): StoredEvent[] {
  const seen = new Set<string>();
  const out: StoredEvent[] = [];
  for (const e of events) {
    const d = (e.data ?? {}) as Record<string, unknown>;
    let key = e.type;
    for (const f of fields) key += '\u0000' + String(d[f]);
    if (seen.has(key)) continue;
    seen.add(key);
    const data: Record<string, unknown> = {};
    for (const f of fields) data[f] = d[f];
    out.push({ type: e.type, data } as StoredEvent);
  }
  return out;
}

/** Config, clock, stores, projections and metrics: shared by every module. */
@Global()
@Module({ providers, exports: providers, controllers: [MetricsController] })
export class InfrastructureModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: LazyProjectionRunner,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.get().stop();
    await this.events.close();
    await this.reads.close();
  }
}
