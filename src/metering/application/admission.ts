import type { EffectiveSubscription } from '../../subscriptions';
import type { UsageVector } from '../contracts';
import type { LimitRefusal } from '../domain/limit-decision';
import type { ProviderCounts, UsageDelta } from '../domain/usage-totals';

/** A call about to be forwarded (or a planned call to check). */
export interface AdmissionRequest {
  tenantId: string;
  userId: string;
  provider: string;
  model: string;
  /** Estimated prompt tokens (may be 0 when unknown). */
  inputTokens: number;
  /** Units the call will use (searches, pages, images), when known. */
  units?: number;
  at: Date;
  /** The gateway's request id: becomes the usage id of the record and of a refusal. */
  requestId: string;
  source: 'gateway' | 'check';
  /** Decide only: reserve nothing, append no refusal. */
  dryRun?: boolean;
}

/** What an admitted call holds until it is recorded or released. */
export interface Reservation {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly provider: string;
  readonly model: string;
  readonly at: Date;
  readonly subscription: EffectiveSubscription;
  /** The call, its prompt's tokens and their estimated cost, held against the limits. */
  readonly delta: UsageDelta;
  /** Ledger key of the period the reservation is held in. */
  readonly periodKey: string;
  released: boolean;
}

export type Refusal = LimitRefusal;

export type Admission =
  | { ok: true; reservation: Reservation; subscription: EffectiveSubscription; remaining: Record<string, number> }
  | { ok: false; refusal: Refusal };

/** What the gateway captured of a call, once it has run. */
export type UsageInput = UsageVector & {
  usage_id: string;
  provider: string;
  model: string;
  operation: string;
  latency_ms: number | null;
  status: number;
  streamed: boolean;
  estimated: boolean;
  occurred_at: string;
};

export interface ProviderPeriodUsage extends ProviderCounts {
  latency_ms: { p50: number | null; p95: number | null; p99: number | null };
}

/** One user's usage in one billing period, from the usage_summaries read model. */
export interface PeriodUsage {
  period_start: string;
  period_end: string;
  total_calls: number;
  total_tokens: number;
  /** Exact decimal string (USD). */
  total_cost: string;
  refused_calls: number;
  errors: number;
  providers: Record<string, ProviderPeriodUsage>;
}
