import { Injectable } from '@nestjs/common';
import { PlanView } from '../domain/plan';
import { PlansService } from './plans.service';

type DeepReadonly<T> = T extends (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** Plans' facade: synchronous reads of the in-memory plan catalog. */
@Injectable()
export class PlansFacade {
  constructor(private readonly plans: PlansService) {}

  /** A plan by id, retired ones included (subscribers of a retired plan keep it); null when unknown. */
  getPlan(planId: string): PlanView | null {
    return clone(this.plans.book.get(planId));
  }

  /**
   * The plan's terms as the catalog holds them, without a copy, for hot paths that only read them (a call's effective
   * subscription, the alert watcher: once per call or event). Typed read-only: a caller that needs to change the plan
   * takes getPlan's copy.
   */
  readPlan(planId: string): DeepReadonly<PlanView> | null {
    return this.plans.book.get(planId) ?? null;
  }

  /**
   * As getPlan, but a plan this instance does not know yet is looked for in the log first: another instance may have
   * defined it a moment ago (writes that name a plan use this; hot paths keep the synchronous getPlan or readPlan).
   */
  async findPlan(planId: string): Promise<PlanView | null> {
    const known = this.getPlan(planId);
    if (known) return known;
    await this.plans.catchUp();
    return this.getPlan(planId);
  }

  /** Resolves once every plan event up to this log position is known here (see PlansService.catchUpTo). */
  catchUpTo(position: bigint): Promise<void> {
    return this.plans.catchUpTo(position);
  }

  /** Whether every plan event up to this log position is known here already (then catchUpTo has nothing to wait for). */
  knowsUpTo(position: bigint): boolean {
    return this.plans.knowsUpTo(position);
  }

  /** Active plans, cheapest tier first. */
  listPlans(): PlanView[] {
    return this.plans.book.all().filter((p) => p.active).map((p) => clone(p)!);
  }

  /** The next active plan above this one's tier (for upgrade recommendations); null at the top. */
  nextPlanAbove(planId: string): PlanView | null {
    const plan = this.plans.book.get(planId);
    if (!plan) return null;
    return clone(this.plans.book.all().find((p) => p.active && p.tier > plan.tier) ?? null);
  }
}

function clone(p: PlanView | null): PlanView | null {
  return p && { ...p, limits: { ...p.limits }, alert_thresholds: [...p.alert_thresholds], features: [...p.features] };
}
