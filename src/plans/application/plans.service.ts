import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore, Subscription } from '../../../libs/event-store/port';
import { handleCommand } from '../../../libs/event-store/command-handling';
import { PLAN_EVENT_TYPES, PlanCommand, PlanView, decidePlan, evolvePlan, planStreamId } from '../domain/plan';
import { PlanBook, loadPlans, seedDefaultPlans } from './plans-store';

/**
 * The plan catalog of this instance: defaults written once, every plan folded from the log at module init, kept
 * current by a subscription (changes made on another instance arrive within the poll interval), and changed by
 * commands (load, decide, append with the revision read).
 */
@Injectable()
export class PlansService implements OnModuleInit, OnModuleDestroy {
  readonly book = new PlanBook();
  private subscription: Subscription | null = null;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onModuleInit(): Promise<void> {
    const written = await seedDefaultPlans(this.store, this.clock.now());
    if (written.length) new Logger('Plans').log(`Default plans written: ${written.join(', ')} (src/plans/default-plans.ts).`);
    const position = await loadPlans(this.store, this.book);
    this.subscription = this.store.subscribeToAll((events) => events.forEach((e) => this.book.apply(e)), { after: position, types: PLAN_EVENT_TYPES });
  }

  /** Waits until every plan event stored now is folded (a plan another instance just defined becomes known). */
  async catchUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  /** Every plan event at or below this log position is folded into the book. */
  private knownUpTo = -1n;

  /**
   * Waits until every plan event up to `position` is folded: a process that follows the log on its own (the
   * projection worker's alert watcher) decides an event with the plans as they stood when it was stored, not with a
   * book the plan subscription has not brought that far yet. Costs a comparison once the book is past it.
   */
  async catchUpTo(position: bigint): Promise<void> {
    if (this.knowsUpTo(position)) return;
    const sub = this.subscription!;
    const head = await this.store.headPosition();
    await sub.caughtUp();
    if (head > this.knownUpTo) this.knownUpTo = head;
  }

  /** Whether every plan event up to `position` is folded already (catchUpTo without a promise, for the usual case). */
  knowsUpTo(position: bigint): boolean {
    const sub = this.subscription;
    if (!sub || position <= this.knownUpTo) return true;
    if (sub.lastPosition < position) return false;
    this.knownUpTo = sub.lastPosition;
    return true;
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  async execute(command: PlanCommand, correlationId?: string): Promise<{ plan: PlanView; changed: boolean }> {
    const stream = planStreamId(command.data.plan_id);
    if (command.type === 'PutPlan' && command.data.tier === undefined && !this.book.get(command.data.plan_id)) {
      // A new plan without a tier goes above every other plan.
      command = { ...command, data: { ...command.data, tier: Math.max(-1, ...this.book.all().map((p) => p.tier)) + 1 } };
    }
    const r = await handleCommand(this.store, stream, { initialState: () => null, evolve: evolvePlan, decide: decidePlan }, command, { now: this.clock.now(), correlationId });
    // Apply our own events at once (by revision, so the subscription's later delivery is a no-op).
    const first = r.nextExpectedRevision - BigInt(r.newEvents.length) + 1n;
    r.newEvents.forEach((e, i) => this.book.apply({ streamId: stream, revision: first + BigInt(i), type: e.type, data: e.data }));
    return { plan: r.state!, changed: r.newEvents.length > 0 };
  }
}
