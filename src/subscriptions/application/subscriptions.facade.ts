import { Injectable } from '@nestjs/common';
import { EffectiveSubscription } from './effective-subscription';
import { SubscriptionsService } from './subscriptions.service';

/** Subscriptions' facade for other modules. */
@Injectable()
export class SubscriptionsFacade {
  constructor(private readonly subscriptions: SubscriptionsService) {}

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
}
