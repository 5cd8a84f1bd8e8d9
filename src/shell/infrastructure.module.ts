import { Global, Inject, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig, loadConfig } from '../config/config';
import { CLOCK, SystemClock } from '../../libs/clock';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { createEventStore } from '../../libs/event-store/create-event-store';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { createReadStore } from '../../libs/read-store/create-read-store';
import { ProjectionRunner } from '../../libs/projections';
import { ProjectionRegistry } from './projection-registry';
import { MetricsService } from './metrics.service';

export const PROJECTION_RUNNER = Symbol('PROJECTION_RUNNER');

const providers: Provider[] = [
  { provide: APP_CONFIG, useFactory: () => loadConfig() },
  { provide: CLOCK, useClass: SystemClock },
  {
    provide: EVENT_STORE,
    inject: [APP_CONFIG],
    useFactory: (c: AppConfig) => createEventStore({ eventStoreUrl: c.eventStoreUrl, dataDir: c.dataDir, sqliteSync: c.sqliteSync, faultPoints: c.faultPoints }),
  },
  { provide: READ_STORE, inject: [APP_CONFIG], useFactory: (c: AppConfig) => createReadStore({ mongodbUrl: c.mongodbUrl, dataDir: c.dataDir }) },
  ProjectionRegistry,
  {
    provide: PROJECTION_RUNNER,
    inject: [EVENT_STORE, READ_STORE, ProjectionRegistry],
    // Projections are registered by the modules during init; the runner reads the registry when it starts.
    useFactory: (es: EventStore, rs: ReadStore, reg: ProjectionRegistry) => new LazyProjectionRunner(es, rs, reg),
  },
  MetricsService,
];

/** A ProjectionRunner created once the modules have registered their projections. */
export class LazyProjectionRunner {
  private runner: ProjectionRunner | null = null;
  constructor(
    private readonly es: EventStore,
    private readonly rs: ReadStore,
    private readonly registry: ProjectionRegistry,
  ) {}
  get(): ProjectionRunner {
    if (!this.runner) {
      const logger = new Logger('Projections');
      this.runner = new ProjectionRunner(this.es, this.rs, this.registry.all(), {
        onError: (name, err) => logger.error(`Projection ${name} failed: ${(err as Error).message}`),
      });
    }
    return this.runner;
  }
}

/** Config, clock, stores, projections and metrics: shared by every module. */
@Global()
@Module({ providers, exports: providers })
export class InfrastructureModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: LazyProjectionRunner,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.get().start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.get().stop();
    await this.events.close();
    await this.reads.close();
  }
}
