import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { CLOCK, Clock } from '../../../libs/clock';
import { crashPoint } from '../../../libs/faults/crash-point';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { APP_CONFIG, AppConfig, rootLogger } from '../../shell';
import { USER_SUBSCRIPTIONS, UserSubscriptionDoc } from '../projections/user-subscriptions.projection';
import { SubscriptionsService } from './subscriptions.service';

export const PERIOD_CLOSE_JOB = 'period-close';

/**
 * The scheduled period close (cron from TOLLGATE_PERIOD_CLOSE_CRON, every minute by default; "off" disables it): reads
 * the `user_subscriptions` read model for periods that ended and sends one close command per subscription. Safe on
 * every instance at once: the aggregate closes a period only when its stream still shows it open (optimistic
 * concurrency), so a period closes exactly once; after downtime each user's missed periods close in order.
 */
@Injectable()
export class PeriodCloseJob implements OnApplicationBootstrap, OnModuleDestroy {
  private running: Promise<{ closed: number; users: number }> | null = null;
  private readonly log = rootLogger().child({ component: 'period-close' });

  constructor(
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly subscriptions: SubscriptionsService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const cron = this.config.periodCloseCron;
    if (this.config.role === 'projector') return;
    if (!cron || /^(off|disabled|none)$/i.test(cron)) return;
    const job = CronJob.from({
      cronTime: cron,
      start: true,
      onTick: () => {
        this.run().catch((err: Error) => this.log.error({ err: err.message }, 'period close failed'));
      },
    });
    this.scheduler.addCronJob(PERIOD_CLOSE_JOB, job as never);
  }

  onModuleDestroy(): void {
    try {
      void this.scheduler.getCronJob(PERIOD_CLOSE_JOB).stop();
      this.scheduler.deleteCronJob(PERIOD_CLOSE_JOB);
    } catch {
      /* not scheduled */
    }
  }

  /** The scheduled entry point: one run at a time on this instance (a second call joins the running one). */
  run(): Promise<{ closed: number; users: number }> {
    this.running ??= this.closeDue().finally(() => (this.running = null));
    return this.running;
  }

  /** One pass: closes every period that ended by now. Concurrent passes (other instances) are safe. */
  async closeDue(): Promise<{ closed: number; users: number }> {
    const now = this.clock.now();
    const docs = this.reads.collection<UserSubscriptionDoc>(USER_SUBSCRIPTIONS);
    let closed = 0;
    let users = 0;
    let cursor: string | undefined;
    do {
      const page = await docs.find({ period_end: { $lte: now.toISOString() } }, { sort: { field: 'period_end', direction: 'asc' }, limit: 200, cursor });
      for (const d of page.items) {
        try {
          const n = await this.subscriptions.closeDue(d.tenant_id, d.user_id, now);
          closed += n;
          if (n) users++;
          if (n) crashPoint('mid-period-close'); // test-only (TOLLGATE_TEST_FAULTS), see test/drills/crash-points.ts
        } catch (err) {
          this.log.error({ tenant: d.tenant_id, err: (err as Error).message }, 'could not close a period');
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    if (closed) this.log.info({ closed, users }, 'billing periods closed');
    return { closed, users };
  }
}
