import { sha256Uuid } from '../../../libs/ids/name-based-uuid';
import { EventStore, NO_STREAM, StoredEvent, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { DEFAULT_PLANS } from '../default-plans';
import { PLAN_EVENT_TYPES, PlanEvent, PlanState, PlanView, evolvePlan, planStreamId } from '../domain/plan';

/** A UUID-shaped id derived from a name: the same name always gives the same id (stored seed ids depend on it). */
export const uuidFrom = sha256Uuid;

/**
 * Writes the default plans (src/plans/default-plans.ts) once: each plan's PlanDefined goes to the plan's stream with
 * expected revision `no_stream` and a deterministic id, so a restart or a second instance writes nothing and a plan
 * the operator has changed (its stream exists) is never touched. Returns the ids of the plans this call wrote.
 */
export async function seedDefaultPlans(store: EventStore, now: Date): Promise<string[]> {
  const written: string[] = [];
  for (const p of DEFAULT_PLANS) {
    try {
      const r = await store.append(
        planStreamId(p.plan_id),
        [{ id: uuidFrom(`plans-seed:v1:${p.plan_id}`), type: 'PlanDefined', data: { ...p }, metadata: { occurredAt: now.toISOString(), source: 'src/plans/default-plans.ts' } }],
        NO_STREAM,
      );
      if (!r.duplicate) written.push(p.plan_id);
    } catch (err) {
      if (!(err instanceof WrongExpectedVersionError)) throw err;
    }
  }
  return written;
}

/** Every plan, folded from its stream; an event is applied once, in stream order (revision by revision). */
export class PlanBook {
  private readonly plans = new Map<string, { state: PlanState; revision: bigint }>();

  apply(e: Pick<StoredEvent, 'streamId' | 'revision' | 'type' | 'data'>): void {
    if (!e.streamId.startsWith('plan-')) return;
    const id = e.streamId.slice('plan-'.length);
    const cur = this.plans.get(id) ?? { state: null, revision: -1n };
    if (e.revision !== cur.revision + 1n) return; // already applied, or delivered later in order
    this.plans.set(id, { state: evolvePlan(cur.state, { type: e.type, data: e.data } as PlanEvent), revision: e.revision });
  }

  get(planId: string): PlanView | null {
    return this.plans.get(planId)?.state ?? null;
  }

  all(): PlanView[] {
    return [...this.plans.values()].map((p) => p.state).filter((s): s is PlanView => s !== null).sort((a, b) => a.tier - b.tier || a.plan_id.localeCompare(b.plan_id));
  }
}

export async function loadPlans(store: EventStore, book: PlanBook): Promise<bigint> {
  let after = -1n;
  for (;;) {
    const page = await store.readAll({ after, maxCount: 5000, types: PLAN_EVENT_TYPES });
    for (const e of page) book.apply(e);
    if (page.length) after = page[page.length - 1].position;
    if (page.length < 5000) return after;
  }
}
