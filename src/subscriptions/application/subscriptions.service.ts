import { randomUUID } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { handleCommand, loadState } from '../../../libs/event-store/command-handling';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { AppError, SubscriptionException } from '../../../libs/errors';
import { IdentityFacade } from '../../identity';
import { DEFAULT_ALERT_THRESHOLDS, PlansFacade, PlanView } from '../../plans';
import { LazyProjectionRunner, PROJECTION_RUNNER, rootLogger } from '../../shell';
import { BillingCycle } from '../domain/billing-period';
import { effectiveAt, PlanTerms, SubscriptionCommand, subscriptionDecider, SubscriptionState } from '../domain/subscription';
import { subscriptionStreamId, UsageTotals } from '../domain/subscription-events';
import { PeriodUsageDoc, periodUsageId, SUBSCRIPTION_USAGE } from '../projections/subscription-usage.projection';
import { EffectiveSubscription } from './effective-subscription';

/** A cached aggregate is re-read after this long (bounds staleness when another instance changed it). */
const RELOAD_MS = 5_000;
const MAX_CACHED = 200_000;
/** At most this many missed periods are closed for one user in one go. */
const MAX_CLOSES_PER_USER = 1_000;

interface CacheEntry {
  state: SubscriptionState;
  loadedAt: number;
}

const key = (tenantId: string, userId: string) => `${tenantId}/${userId}`;
const NO_LIMITS: Readonly<Record<string, number>> = Object.freeze({});

export const priceFor = (plan: Pick<PlanView, 'monthly_price' | 'yearly_price'>, cycle: BillingCycle) => (cycle === 'yearly' ? plan.yearly_price : plan.monthly_price);

/**
 * Subscriptions' command side and its in-memory read of each user's aggregate. Commands have one shape: load,
 * decide, append with the revision read (retried on conflict). Due periods are closed before any other command.
 */
@Injectable()
export class SubscriptionsService {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  private readonly log = rootLogger().child({ component: 'subscriptions' });

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(PROJECTION_RUNNER) private readonly runner: LazyProjectionRunner,
    private readonly plans: PlansFacade,
    private readonly identity: IdentityFacade,
  ) {}

  /** The user's aggregate state (status 'none' when the user never appeared). */
  async state(tenantId: string, userId: string, fresh = false): Promise<SubscriptionState> {
    const k = key(tenantId, userId);
    const hit = this.cache.get(k);
    if (hit && !fresh && Date.now() - hit.loadedAt <= RELOAD_MS) return hit.state;
    let pending = this.loading.get(k);
    if (!pending) {
      pending = loadState(this.events, subscriptionStreamId(tenantId, userId), subscriptionDecider)
        .then(({ state }) => {
          const entry = { state, loadedAt: Date.now() };
          this.remember(k, entry);
          return entry;
        })
        .finally(() => this.loading.delete(k));
      this.loading.set(k, pending);
    }
    return (await pending).state;
  }

  /** The user's state, creating the default-plan subscription at the first contact. */
  async ensure(tenantId: string, userId: string, at: Date): Promise<SubscriptionState> {
    const s = await this.state(tenantId, userId);
    if (s.status !== 'none') return s;
    const tenant = await this.identity.getTenant(tenantId);
    if (!tenant) throw new AppError(404, 'not_found', 'Tenant not found.', { tenant_id: tenantId });
    const plan = await this.defaultTerms(tenantId);
    const now = this.clock.now();
    // The first period starts at the first contact (or at the usage's own time when that is earlier).
    const start = at.getTime() < now.getTime() ? at : now;
    return this.execute(tenantId, userId, { type: 'AssignDefaultPlan', data: { tenant_id: tenantId, user_id: userId, plan, at: start } });
  }

  async getEffective(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription> {
    return this.effective(await this.ensure(tenantId, userId, at), at);
  }

  /**
   * getEffective without a promise when memory answers it (the user's state cached and fresh, no cancellation to
   * resolve); null otherwise. Each recorded call and report event asks: four async frames per event were measurable.
   */
  peekEffective(tenantId: string, userId: string, at: Date): EffectiveSubscription | null {
    const hit = this.cache.get(key(tenantId, userId));
    if (!hit || hit.state.status === 'none' || hit.state.cancel_at || Date.now() - hit.loadedAt > RELOAD_MS) return null;
    return this.effectiveOf(hit.state, at, hit.state.plan_id);
  }

  /** The effective view without creating anything; null for a user who never appeared. */
  async findEffective(tenantId: string, userId: string, at: Date): Promise<EffectiveSubscription | null> {
    const state = await this.state(tenantId, userId);
    return state.status === 'none' ? null : this.effective(state, at);
  }

  async effective(state: SubscriptionState, at: Date): Promise<EffectiveSubscription> {
    const fallback = state.cancel_at ? (await this.defaultTerms(state.tenant_id)).plan_id : state.plan_id;
    return this.effectiveOf(state, at, fallback);
  }

  private effectiveOf(state: SubscriptionState, at: Date, fallback: string): EffectiveSubscription {
    const terms = effectiveAt(state, at, fallback);
    const plan = this.plans.readPlan(terms.plan_id);
    return {
      tenant_id: state.tenant_id,
      user_id: state.user_id,
      subscription_id: terms.subscription_id,
      plan_id: terms.plan_id,
      plan_name: plan?.name ?? terms.plan_id,
      billing_cycle: terms.billing_cycle,
      status: terms.status,
      period_start: terms.period_start,
      period_end: terms.period_end,
      limits: plan ? plan.limits : NO_LIMITS,
      alert_thresholds: plan ? plan.alert_thresholds : DEFAULT_ALERT_THRESHOLDS,
    };
  }

  async subscribe(tenantId: string, userId: string, planId: string, cycle: BillingCycle): Promise<SubscriptionState> {
    const plan = await this.requirePlan(planId);
    const now = this.clock.now();
    if (!(await this.identity.getTenant(tenantId))) throw new AppError(404, 'not_found', 'Tenant not found.', { tenant_id: tenantId });
    await this.closeDue(tenantId, userId, now);
    const current = await this.state(tenantId, userId, true);
    if (current.status === 'default') await this.usageCaughtUp();
    const totals = current.status === 'default' ? await this.totals(tenantId, userId, current.period_start) : emptyTotals();
    return this.execute(tenantId, userId, {
      type: 'Subscribe',
      data: { tenant_id: tenantId, user_id: userId, subscription_id: randomUUID(), plan: { plan_id: plan.plan_id, tier: plan.tier, price: priceFor(plan, cycle) }, billing_cycle: cycle, at: now, totals },
    });
  }

  async changePlan(tenantId: string, userId: string, planId: string, reason: string | null): Promise<{ state: SubscriptionState; change: unknown }> {
    const plan = await this.requirePlan(planId);
    const now = this.clock.now();
    await this.closeDue(tenantId, userId, now);
    const current = await this.state(tenantId, userId, true);
    const currentPlan = this.plans.getPlan(current.plan_id);
    await this.usageCaughtUp();
    const totals = await this.totals(tenantId, userId, current.period_start);
    const state = await this.execute(tenantId, userId, {
      type: 'ChangePlan',
      data: {
        plan: { plan_id: plan.plan_id, tier: plan.tier, price: priceFor(plan, current.billing_cycle) },
        current_plan: { plan_id: current.plan_id, tier: currentPlan?.tier ?? 0, price: priceFor(currentPlan ?? { monthly_price: '0', yearly_price: '0' }, current.billing_cycle) },
        reason,
        at: now,
        limits: plan.limits,
        usage: usageByLimit(totals),
      },
    });
    return { state, change: state.plan_history[state.plan_history.length - 1] };
  }

  async cancel(tenantId: string, userId: string, immediately: boolean, reason: string | null): Promise<SubscriptionState> {
    const now = this.clock.now();
    await this.closeDue(tenantId, userId, now);
    const current = await this.state(tenantId, userId, true);
    if (immediately) await this.usageCaughtUp();
    const totals = immediately && current.status !== 'none' ? await this.totals(tenantId, userId, current.period_start) : emptyTotals();
    return this.execute(tenantId, userId, { type: 'CancelSubscription', data: { immediately, reason, at: now, totals, fallback: await this.defaultTerms(tenantId) } });
  }

  /** Closes every period of the user that ended by `now`, oldest first; returns how many this call closed. */
  async closeDue(tenantId: string, userId: string, now: Date): Promise<number> {
    let closed = 0;
    for (let i = 0; i < MAX_CLOSES_PER_USER; i++) {
      const state = await this.state(tenantId, userId, true);
      if (state.status === 'none' || Date.parse(state.period_end) > now.getTime()) break;
      if (closed === 0) await this.usageCaughtUp();
      const totals = await this.totals(tenantId, userId, state.period_start);
      const current = this.plans.getPlan(state.plan_id);
      const nextPrice = current ? priceFor(current, state.billing_cycle) : state.segments[state.segments.length - 1].price;
      const r = await handleCommand(
        this.events,
        subscriptionStreamId(tenantId, userId),
        subscriptionDecider,
        { type: 'ClosePeriod', data: { period_end: state.period_end, at: now, totals, next_price: nextPrice, fallback: await this.defaultTerms(tenantId) } },
        { now: this.clock.now() },
      );
      this.remember(key(tenantId, userId), { state: r.state, loadedAt: Date.now() });
      if (r.newEvents.length) closed++;
      else if (r.state.period_end === state.period_end) break;
    }
    return closed;
  }

  /** The closed or current period's usage totals from subscriptions' own projection of UsageRecorded. */
  async totals(tenantId: string, userId: string, periodStart: string): Promise<UsageTotals> {
    const doc = await this.reads.collection<PeriodUsageDoc>(SUBSCRIPTION_USAGE).get(periodUsageId(tenantId, userId, periodStart));
    if (!doc) return emptyTotals();
    return { calls: doc.calls, tokens: doc.tokens, cost: doc.cost, providers: doc.providers };
  }

  async defaultTerms(tenantId: string): Promise<PlanTerms> {
    const tenant = await this.identity.getTenant(tenantId);
    const plan = this.plans.getPlan(tenant?.default_plan_id ?? 'free') ?? this.plans.getPlan('free');
    if (!plan) return { plan_id: tenant?.default_plan_id ?? 'free', tier: 0, price: '0' };
    return { plan_id: plan.plan_id, tier: plan.tier, price: plan.monthly_price };
  }

  /**
   * Waits (up to 5 s) until the usage projection has applied every event stored when called, so period totals are
   * complete. It asks the projections to catch up (which ends a projection worker's pause between batches under load)
   * rather than polling for a lag of 0, which a steady stream of calls may never show.
   */
  async usageCaughtUp(): Promise<void> {
    const control = this.runner.get();
    try {
      await control.caughtUp(5_000);
    } catch {
      // caughtUp fails on any projection's failure or after 5 s: the usage projection's own status says which it is,
      // and another projection's failure (or a slow one) does not hold the usage totals up once they are complete.
      const status = (await control.status()).find((p) => p.name === 'subscription_usage');
      if (status?.error) throw new AppError(503, 'usage_projection_failed', `Usage totals are unavailable: ${status.error}`);
      if (status && status.lag > 0) throw new AppError(503, 'usage_projection_lagging', 'Usage totals are still being brought up to date; retry shortly.');
    }
  }

  private async requirePlan(planId: string): Promise<PlanView> {
    const plan = await this.plans.findPlan(planId);
    if (!plan || !plan.active) throw new SubscriptionException(`Unknown plan ${planId}.`, { plan_id: planId, plans: this.plans.listPlans().map((p) => p.plan_id) });
    return plan;
  }

  private async execute(tenantId: string, userId: string, command: SubscriptionCommand): Promise<SubscriptionState> {
    const r = await handleCommand(this.events, subscriptionStreamId(tenantId, userId), subscriptionDecider, command, { now: this.clock.now() });
    this.remember(key(tenantId, userId), { state: r.state, loadedAt: Date.now() });
    if (r.newEvents.length) this.log.debug({ tenant: tenantId, events: r.newEvents.map((e) => e.type) }, 'subscription changed');
    return r.state;
  }

  private remember(k: string, entry: CacheEntry): void {
    if (this.cache.size >= MAX_CACHED && !this.cache.has(k)) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(k, entry);
  }
}

export function emptyTotals(): UsageTotals {
  return { calls: 0, tokens: 0, cost: '0', providers: {} };
}

/** The period's usage under the names of plan limits (total_calls, total_tokens, monthly_cost, {provider}_calls/_tokens). */
export function usageByLimit(t: UsageTotals): Record<string, number> {
  const u: Record<string, number> = { total_calls: t.calls, total_tokens: t.tokens, monthly_cost: Number(t.cost) };
  for (const [p, v] of Object.entries(t.providers)) {
    u[`${p}_calls`] = v.calls;
    u[`${p}_tokens`] = v.tokens;
  }
  return u;
}
