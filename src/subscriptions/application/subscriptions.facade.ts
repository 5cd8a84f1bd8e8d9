import { Inject, Injectable } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { IdentityFacade } from '../../identity';
import { USER_SUBSCRIPTIONS, UserSubscriptionDoc } from '../projections/user-subscriptions.projection';
import { EffectiveSubscription } from './effective-subscription';
import { SubscriptionsService } from './subscriptions.service';

/** Subscriptions' facade for other modules. */
@Injectable()
export class SubscriptionsFacade {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly identity: IdentityFacade,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  /**
   * Users whose current period ends in (from, until], soonest first, a page at a time (the renewal notice job reads
   * this). From the `user_subscriptions` read model: every user with a subscription or a default plan, usage or not.
   */
  async periodsEndingBetween(from: Date, until: Date, cursor?: string): Promise<{ items: Array<{ tenant_id: string; user_id: string; period_start: string; period_end: string }>; nextCursor: string | null }> {
    const page = await this.reads
      .collection<UserSubscriptionDoc>(USER_SUBSCRIPTIONS)
      .find({ period_end: { $gt: from.toISOString(), $lte: until.toISOString() } }, { sort: { field: 'period_end', direction: 'asc' }, limit: 500, cursor });
    return { items: page.items.map((d) => ({ tenant_id: d.tenant_id, user_id: d.user_id, period_start: d.period_start, period_end: d.period_end })), nextCursor: page.nextCursor };
  }

  /**
   * The user's plan, limits and billing period at `at` (calendar-correct UTC). Answers from memory after the first
   * load; a user never seen before is put on the tenant's default plan by this call.
   */
  getEffective(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription> {
    return this.subscriptions.getEffective(tenantId, userId, at);
  }

  /** getEffective from memory, without a promise; null when that needs a load or a write (then ask getEffective). */
  peekEffective(tenantId: string, userId: string, at: Date): EffectiveSubscription | null {
    return this.subscriptions.peekEffective(tenantId, userId, at);
  }

  /** As getEffective, but creates nothing: null for a user the tenant never had (read endpoints answer 404 then). */
  findEffective(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription | null> {
    return this.subscriptions.findEffective(tenantId, userId, at);
  }

  /**
   * For read endpoints: the user's subscription if the tenant knows the user (a subscription, or a key issued for
   * them, in which case the default plan starts now), otherwise null, which the endpoints answer with 404 exactly as
   * for another tenant's user. Reading never creates a user the tenant never had.
   */
  async forKnownUser(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription | null> {
    const found = await this.subscriptions.findEffective(tenantId, userId, at);
    if (found) return found;
    return (await this.identity.userHasKey(tenantId, userId)) ? this.subscriptions.getEffective(tenantId, userId, at) : null;
  }
}
