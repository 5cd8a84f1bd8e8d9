import { APP_CONFIG, AppConfig, rootLogger } from '../../shell';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { EVENT_STORE, EventStore, StoredEvent, Subscription } from '../../../libs/event-store/port';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { Money } from '../../../libs/money';
import { isoTime } from '../../../libs/clock';
import type { UsageRecordedData } from '../contracts';
import { PeriodUsageState } from '../domain/limit-decision';
import { countedFromSummary } from '../domain/ledger-seed';
import { applyDelta, countedTokens, emptyTotals, UsageDelta, UsageTotals } from '../domain/usage-totals';
import { USAGE_SUMMARIES, USAGE_SUMMARIES_PROJECTION, UsageSummaryDoc } from '../projections/usage-summary.projection';

/** Where the ledger started at boot: seeded from usage_summaries at a checkpoint, or folded from the first event. */
export interface LedgerBoot {
  from: 'usage-summaries' | 'log';
  /** The summaries' checkpoint the ledger was seeded at (-1n when folded from the first event). */
  checkpoint: bigint;
  /** Periods read from the summaries. */
  seededPeriods: number;
  /** UsageRecorded events the subscription delivered until caught up. */
  followedEvents: number;
  /** Why the summaries were not used (from: 'log'). */
  reason?: string;
  ms: number;
}

export const periodKey = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${isoTime(periodStart)}`;

/**
 * The enforcement state, in memory: per tenant, user and period, what recorded calls used (counted) and what calls in
 * flight hold (reserved). This process's own records count at once; a subscription to the log adds what other
 * instances record. An event counts once: an event applied locally is remembered by id until the subscription passes
 * it, and a local record the subscription has already delivered (its position is behind the subscription) is skipped.
 */
@Injectable()
export class UsageLedger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly periods = new Map<string, PeriodUsageState>();
  /** Ids of events counted locally that the subscription has not delivered yet. */
  private readonly countedLocally = new Set<string>();
  /** Position of the last UsageRecorded the subscription delivered. */
  private followedUpTo = -1n;
  private subscription: Subscription | null = null;
  private followed = 0;
  /** How the last boot started (null before it, and on the projector). */
  boot: LedgerBoot | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(READ_STORE) private readonly reads?: ReadStore,
  ) {}

  /**
   * Starts from the usage_summaries read model (a consistent read of its documents and their checkpoint C: the
   * periods' counted totals up to C), follows the log after C, and waits until it has caught up, before the app serves
   * calls. Without usable summaries (never projected, reset for a rebuild, an adapter without snapshots, a failed
   * read) it folds the log from the first event.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'projector') return; // the projection worker admits nothing
    const started = Date.now();
    const log = rootLogger().child({ component: 'usage-ledger' });
    const seed = await this.readSeed();
    if (seed.periods) {
      for (const [key, counted] of seed.periods) this.state(key).counted = counted;
      this.followedUpTo = seed.checkpoint;
    }
    this.followed = 0;
    this.subscription = this.events.subscribeToAll((events) => this.follow(events), { after: this.followedUpTo, types: ['UsageRecorded'], batchSize: 2000 });
    await this.subscription.caughtUp();
    this.boot = {
      from: seed.periods ? 'usage-summaries' : 'log',
      checkpoint: seed.periods ? seed.checkpoint : -1n,
      seededPeriods: seed.periods?.size ?? 0,
      followedEvents: this.followed,
      ...(seed.reason ? { reason: seed.reason } : {}),
      ms: Date.now() - started,
    };
    const fields = { ...this.boot, checkpoint: this.boot.checkpoint.toString() };
    if (seed.periods) log.info(fields, `Usage ledger seeded from usage_summaries at checkpoint ${seed.checkpoint}, then followed ${this.followed} events`);
    else log.info(fields, `Usage ledger folded the log from the first event (${seed.reason}): ${this.followed} events`);
  }

  /** The summaries' counted totals per period and their checkpoint, or why there are none to start from. */
  private async readSeed(): Promise<{ periods?: Map<string, UsageTotals>; checkpoint: bigint; reason?: string }> {
    if (!this.reads?.readSnapshot) return { checkpoint: -1n, reason: 'the read store has no consistent snapshot read' };
    const periods = new Map<string, UsageTotals>();
    try {
      const checkpoint = await this.reads.readSnapshot<UsageSummaryDoc>(USAGE_SUMMARIES_PROJECTION, USAGE_SUMMARIES, (doc) => {
        const counted = countedFromSummary(doc);
        if (counted) periods.set(periodKey(doc.tenant_id, doc.user_id, doc.period_start), counted);
      });
      if (checkpoint < 0n) return { checkpoint, reason: 'usage_summaries not projected yet (or being rebuilt)' };
      return { periods, checkpoint };
    } catch (err) {
      return { checkpoint: -1n, reason: `reading usage_summaries failed: ${(err as Error).message}` };
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  /** Resolves once every event stored when called has been counted (tests, cross-instance drills). */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  /** Counted totals per period key (what recorded calls used), read-only: specs compare a seeded ledger with a fold. */
  countedPeriods(): Map<string, UsageTotals> {
    const out = new Map<string, UsageTotals>();
    for (const [key, s] of this.periods) if (s.counted.total.calls || Object.keys(s.counted.providers).length) out.set(key, s.counted);
    return out;
  }

  state(key: string): PeriodUsageState {
    let s = this.periods.get(key);
    if (!s) {
      s = { counted: emptyTotals(), reserved: emptyTotals() };
      this.periods.set(key, s);
    }
    return s;
  }

  reserve(key: string, delta: UsageDelta): void {
    applyDelta(this.state(key).reserved, delta, 1);
  }

  unreserve(key: string, delta: UsageDelta): void {
    applyDelta(this.state(key).reserved, delta, -1);
  }

  /** Counts an event this process appended (call right after the append is durable). */
  countLocal(eventId: string, position: bigint, data: UsageRecordedData): void {
    if (position <= this.followedUpTo) return;
    this.countedLocally.add(eventId);
    this.count(data);
  }

  private follow(events: StoredEvent[]): void {
    this.followed += events.length;
    for (const e of events) {
      if (!this.countedLocally.delete(e.id)) this.count(e.data as UsageRecordedData);
      this.followedUpTo = e.position;
    }
  }

  private count(d: UsageRecordedData): void {
    const key = periodKey(d.tenant_id, d.user_id, d.period_start);
    applyDelta(this.state(key).counted, { provider: d.provider, calls: 1, tokens: countedTokens(d), cost: new Money(d.cost) }, 1);
  }
}
