import { APP_CONFIG, AppConfig } from '../../shell';
import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE, EventStore, StoredEvent, Subscription } from '../../../libs/event-store/port';
import { Money } from '../../../libs/money';
import type { UsageRecordedData } from '../contracts';
import { PeriodUsageState } from '../domain/limit-decision';
import { applyDelta, countedTokens, emptyTotals, UsageDelta } from '../domain/usage-totals';

export const periodKey = (tenantId: string, userId: string, periodStart: string) => `${tenantId}|${userId}|${iso(periodStart)}`;

const isoCache = new Map<string, string>();
function iso(s: string): string {
  let v = isoCache.get(s);
  if (v === undefined) {
    v = new Date(s).toISOString();
    if (isoCache.size > 10_000) isoCache.clear();
    isoCache.set(s, v);
  }
  return v;
}

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

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Follows the log from the first event, and waits until it has caught up, before the app serves calls. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role === 'projector') return; // the projection worker admits nothing
    this.subscription = this.events.subscribeToAll((events) => this.follow(events), { types: ['UsageRecorded'], batchSize: 2000 });
    await this.subscription.caughtUp();
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  /** Resolves once every event stored when called has been counted (tests, cross-instance drills). */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
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
