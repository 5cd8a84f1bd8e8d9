import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { APP_CONFIG, AppConfig, rootLogger } from '../../shell';
import { SubscriptionsFacade } from '../../subscriptions';
import { describeRenewal } from '../domain/alert-wording';
import { RaiseAlertHandler } from './raise-alert.handler';
import { isoTime } from '../../../libs/clock';

/** A renewal notice goes out when the period ends within this many days. */
export const RENEWAL_NOTICE_DAYS = 3;
const DAY_MS = 86_400_000;

/**
 * Scheduled: every user whose period ends within three days (subscribed or on the default plan, with usage or not)
 * gets one informational renewal notice for that period (its own alert stream, appended once, so every instance may
 * run the job).
 */
@Injectable()
export class RenewalNoticeJob implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private readonly done = new Set<string>();
  private readonly log = rootLogger().child({ component: 'renewal-notices' });

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly raiser: RaiseAlertHandler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.role === 'projector') return; // the server's job, not the projection worker's
    this.timer = setInterval(() => void this.run().catch((err) => this.log.error({ err: (err as Error).message }, 'renewal notice run failed')), 60_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Raises the notices due now; returns how many it raised. Runs one at a time. */
  run(): Promise<number> {
    this.running ??= this.runOnce().finally(() => (this.running = null));
    return this.running;
  }

  private async runOnce(): Promise<number> {
    const now = this.clock.now();
    const until = new Date(now.getTime() + RENEWAL_NOTICE_DAYS * DAY_MS);
    let raised = 0;
    let cursor: string | undefined;
    do {
      const page = await this.subscriptions.periodsEndingBetween(now, until, cursor);
      for (const u of page.items) {
        const t = { ...u, _id: `${u.tenant_id}\u0000${u.user_id}\u0000${isoTime(u.period_start)}`, period_start: isoTime(u.period_start) };
        if (this.done.has(t._id)) continue;
        const sub = await this.subscriptions.getEffective(t.tenant_id, t.user_id, now);
        // The period the usage counted in must still be the user's current one.
        if (isoTime(sub.period_start) !== t.period_start) {
          this.done.add(t._id);
          continue;
        }
        const periodEnd = isoTime(sub.period_end);
        const daysLeft = Math.ceil((new Date(periodEnd).getTime() - now.getTime()) / DAY_MS);
        const text = describeRenewal(sub.plan_name, periodEnd, daysLeft, sub.status === 'cancelling');
        const ok = await this.raiser.raiseRenewalNotice({
          alert_id: RaiseAlertHandler.renewalNoticeId(t.tenant_id, t.user_id, t.period_start),
          kind: 'renewal',
          tenant_id: t.tenant_id,
          user_id: t.user_id,
          plan_id: sub.plan_id,
          severity: 'info',
          ...text,
          period_start: t.period_start,
          period_end: periodEnd,
          raised_at: now.toISOString(),
        });
        if (ok) raised++;
        this.done.add(t._id);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return raised;
  }
}
