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
  /** Units the call will use (searches, pages, images), or their worst case, when known. */
  units?: number;
  /** The catalog key its units are priced by, when not the model's own price (`image/dall-e-3/hd/1024x1792`, `web_search`). */
  unitKey?: string;
  /**
   * The most output tokens the call may generate: a number is the request's own maximum, null means the request states
   * none (the model's maximum output is reserved), undefined that the call generates no tokens.
   */
  maxOutputTokens?: number | null;
  at: Date;
  /** The gateway's request id: becomes the usage id of the record and of a refusal. */
  requestId: string;
  source: 'gateway' | 'check';
  /** Decide only: reserve nothing, append no refusal. */
  dryRun?: boolean;
  /** Not billable (a job's status poll): admitted without a limit check, reserving nothing (it may still settle a job). */
  free?: boolean;
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
  /** The call and its worst case (prompt tokens plus maximum output, units), priced, held against the limits. */
  readonly delta: UsageDelta;
  /** Ledger key of the period the reservation is held in. */
  readonly periodKey: string;
  released: boolean;
}

export type Refusal = LimitRefusal;

/** A call that uses units no price in effect covers: not forwarded until the operator sets that price. */
export interface UnpricedOperation {
  provider: string;
  /** The catalog key that needs a `unit` price. */
  price_key: string;
  message: string;
}

export type Admission =
  | { ok: true; reservation: Reservation; subscription: EffectiveSubscription; remaining: Record<string, number> }
  | { ok: false; refusal: Refusal; unpriced?: undefined }
  | { ok: false; unpriced: UnpricedOperation; refusal?: undefined };

/** What the gateway captured of a call, once it has run. */
export type UsageInput = UsageVector & {
  usage_id: string;
  /** The catalog key the units are priced by, when not the model's own price. */
  unit_key?: string;
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
