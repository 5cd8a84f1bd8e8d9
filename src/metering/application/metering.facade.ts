import { Inject, Injectable } from '@nestjs/common';
import { Money } from '../../../libs/money';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { PricingFacade } from '../../pricing';
import { SubscriptionsFacade } from '../../subscriptions';
import type { EffectiveSubscription } from '../../subscriptions';
import { UsageRecordedData } from '../contracts';
import { decideAdmission } from '../domain/limit-decision';
import { USAGE_SUMMARIES, summaryId, toPeriodUsage, UsageSummaryDoc } from '../projections/usage-summary.projection';
import { Admission, AdmissionRequest, PeriodUsage, Reservation, UsageInput } from './admission';
import { periodKey, UsageLedger } from './usage-ledger';
import { UsageWriter } from './usage-writer';

const NO_USAGE = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 };

/**
 * Metering's facade: admit a call against the user's limits before it runs (from memory, with reservations for calls
 * in flight), record what it used after, release what a call that never ran held, and read a period's totals.
 */
@Injectable()
export class MeteringFacade {
  constructor(
    private readonly ledger: UsageLedger,
    private readonly writer: UsageWriter,
    private readonly pricing: PricingFacade,
    private readonly subscriptions: SubscriptionsFacade,
    @Inject(READ_STORE) private readonly reads: ReadStore,
  ) {}

  /**
   * Decides whether the call fits the limits. Admitted: the call's worst case (its prompt's tokens plus its maximum
   * output, and its units, priced at the call's prices) is reserved until `record` settles it to what the call used,
   * or `release` frees it. Refused: a `UsageRefused` is durable before this resolves (unless dryRun). A call whose
   * units no price covers is refused as unpriced (nothing is appended: it is not a limit).
   */
  async admit(req: AdmissionRequest): Promise<Admission> {
    const unpriced = req.units ? this.pricing.unpricedUnits(req.provider, req.model, req.units, req.at, req.unitKey) : null;
    if (unpriced) {
      const message = `Tollgate has no price for this ${req.provider} operation ("${unpriced.price_key}"), so it is not forwarded: the operator must set its price with PUT /api/admin/pricing/${req.provider}/${unpriced.price_key} {"prices": {"unit": <USD per unit>}}.`;
      return { ok: false, unpriced: { provider: req.provider, price_key: unpriced.price_key, message } };
    }
    const subscription = this.subscriptions.peekEffective(req.tenantId, req.userId, req.at) ?? (await this.subscriptions.getEffective(req.tenantId, req.userId, req.at));
    const key = periodKey(req.tenantId, req.userId, subscription.period_start);
    if (req.free) {
      const delta = { provider: req.provider, calls: 0, tokens: 0, cost: new Money(0) };
      const reservation: Reservation = { id: req.requestId, tenantId: req.tenantId, userId: req.userId, provider: req.provider, model: req.model, at: req.at, subscription, delta, periodKey: key, released: true };
      return { ok: true, reservation, subscription, remaining: {} };
    }
    const outputTokens = req.maxOutputTokens === undefined ? 0 : (req.maxOutputTokens ?? this.pricing.maxOutputTokens(req.provider, req.model, req.at));
    const tokens = req.inputTokens + outputTokens;
    const cost = this.worstCaseCost(req, outputTokens);
    // From here to the reservation nothing awaits: concurrent admits see each other's reservations.
    const decision = decideAdmission(this.ledger.state(key), subscription.limits ?? {}, { provider: req.provider, tokens, cost }, {
      period_end: subscription.period_end,
      now: req.at,
    });
    if (decision.ok) {
      const reservation: Reservation = {
        id: req.requestId,
        tenantId: req.tenantId,
        userId: req.userId,
        provider: req.provider,
        model: req.model,
        at: req.at,
        subscription,
        delta: { provider: req.provider, calls: 1, tokens, cost },
        periodKey: key,
        released: !!req.dryRun,
      };
      if (!req.dryRun) this.ledger.reserve(key, reservation.delta);
      return { ok: true, reservation, subscription, remaining: decision.remaining };
    }
    if (!req.dryRun) {
      await this.writer.recordRefusal({
        usage_id: req.requestId,
        tenant_id: req.tenantId,
        user_id: req.userId,
        provider: req.provider,
        model: req.model,
        limit: decision.refusal.limit,
        limit_value: decision.refusal.limit_value,
        used: decision.refusal.used,
        requested: decision.refusal.requested,
        occurred_at: req.at.toISOString(),
        period_start: subscription.period_start,
        period_end: subscription.period_end,
        plan_id: subscription.plan_id,
        source: req.source,
      });
    }
    return { ok: false, refusal: decision.refusal };
  }

  /**
   * Prices the usage at `occurred_at`, appends `UsageRecorded` idempotently (usage id = request id) and then releases
   * the reservation. A repeated record returns the stored record and counts nothing twice.
   */
  async record(reservation: Reservation, usage: UsageInput): Promise<UsageRecordedData> {
    try {
      const data = this.recordedData(reservation.tenantId, reservation.userId, reservation.subscription, usage, 'gateway');
      const out = await this.writer.recordUsage(data, () => this.release(reservation));
      return out.data;
    } finally {
      this.release(reservation);
    }
  }

  /**
   * Settles an async job (a Firecrawl crawl) that was recorded at its worst case when it started, under the job's usage
   * id, to what it used: one correction record (`{job}-settlement`, its units and cost the difference, negative when
   * the job used less), priced at the start's time and counted in the start's period. Idempotent: a later poll appends
   * the same record again, a duplicate. A job whose start was not recorded as such (started before Tollgate recorded
   * starts, or elsewhere) is recorded once under the job's id with what it used. A poll by another user than the one
   * who started the job settles nothing: the start's worst case stands.
   */
  async settleJob(reservation: Reservation, usage: UsageInput): Promise<UsageRecordedData | null> {
    try {
      const start = await this.writer.readGatewayRecord(reservation.tenantId, usage.usage_id);
      if (!start) return (await this.writer.recordUsage(this.recordedData(reservation.tenantId, reservation.userId, reservation.subscription, usage, 'gateway'))).data;
      if (start.user_id !== reservation.userId) return null;
      const difference = usage.units - start.units;
      if (difference === 0) return start;
      const period = { ...reservation.subscription, period_start: start.period_start, period_end: start.period_end, plan_id: start.plan_id };
      const correction: UsageInput = {
        ...usage,
        usage_id: `${usage.usage_id}-settlement`,
        model: start.model,
        operation: `${start.operation}_settlement`,
        units: difference,
        ...(start.unit_key ? { unit_key: start.unit_key } : {}),
        occurred_at: start.occurred_at,
      };
      return (await this.writer.recordUsage(this.recordedData(reservation.tenantId, start.user_id, period, correction, 'gateway'))).data;
    } finally {
      this.release(reservation);
    }
  }

  /** Frees what an admitted call held, for a call that was never forwarded. Idempotent. */
  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.ledger.unreserve(reservation.periodKey, reservation.delta);
  }

  /** The current period's totals from the usage_summaries read model. */
  async getPeriodUsage(tenantId: string, userId: string, at: Date): Promise<PeriodUsage> {
    const sub = await this.subscriptions.getEffective(tenantId, userId, at);
    const doc = await this.reads.collection<UsageSummaryDoc>(USAGE_SUMMARIES).get(summaryId(tenantId, userId, sub.period_start));
    return toPeriodUsage(doc, sub.period_start, sub.period_end);
  }

  /** Builds the recorded event for a usage, priced at the price in effect when it happened. */
  recordedData(tenantId: string, userId: string, sub: EffectiveSubscription, usage: UsageInput, source: 'gateway' | 'report'): UsageRecordedData {
    const occurred = new Date(usage.occurred_at);
    const vector = {
      input_tokens: usage.input_tokens ?? 0,
      output_tokens: usage.output_tokens ?? 0,
      cache_read_tokens: usage.cache_read_tokens ?? 0,
      cache_write_tokens: usage.cache_write_tokens ?? 0,
      reasoning_tokens: usage.reasoning_tokens ?? 0,
      units: usage.units ?? 0,
    };
    let cost: string;
    let price_version: string;
    let price_source: 'catalog' | 'fallback';
    try {
      const q = this.pricing.quote(usage.provider, usage.model, vector, occurred, usage.unit_key);
      cost = q.exact;
      price_version = q.price_version;
      price_source = q.price_source;
    } catch (err) {
      // A gateway call already happened: record it unpriced rather than lose it (reports are rejected instead).
      if (source === 'report') throw err;
      cost = '0';
      price_version = 'unpriced';
      price_source = 'fallback';
    }
    return {
      usage_id: usage.usage_id,
      tenant_id: tenantId,
      user_id: userId,
      provider: usage.provider,
      model: usage.model,
      operation: usage.operation,
      source,
      ...vector,
      ...(usage.unit_key ? { unit_key: usage.unit_key } : {}),
      cost,
      price_version,
      price_source,
      latency_ms: usage.latency_ms,
      status: usage.status,
      streamed: usage.streamed,
      estimated: usage.estimated,
      occurred_at: occurred.toISOString(),
      period_start: sub.period_start,
      period_end: sub.period_end,
      plan_id: sub.plan_id,
    };
  }

  /** The call's worst case priced at its prices: the prompt, `outputTokens` of output, and its units. */
  private worstCaseCost(req: AdmissionRequest, outputTokens: number): Money {
    if (!req.inputTokens && !outputTokens && !req.units) return new Money(0);
    try {
      return this.pricing.quote(req.provider, req.model, { ...NO_USAGE, input_tokens: req.inputTokens, output_tokens: outputTokens, units: req.units ?? 0 }, req.at, req.unitKey).cost;
    } catch {
      return new Money(0);
    }
  }
}
