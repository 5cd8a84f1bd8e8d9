import { Injectable } from '@nestjs/common';
import { IdentityFacade } from '../../identity';
import { EffectiveSubscription } from './effective-subscription';
import { SubscriptionsService } from './subscriptions.service';

/** Subscriptions' facade for other modules. */
@Injectable()
export class SubscriptionsFacade {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly identity: IdentityFacade,
  ) {}

  /**
   * The user's plan, limits and billing period at `at` (calendar-correct UTC). Answers from memory after the first
   * load; a user never seen before is put on the tenant's default plan by this call.
   */
  getEffective(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription> {
    return this.subscriptions.getEffective(tenantId, userId, at);
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
