import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import Decimal from 'decimal.js';
import { Counter, Gauge, Histogram } from 'prom-client';
import { EVENT_STORE, EventStore, StoredEvent, Subscription } from '../../libs/event-store/port';
import { APP_CONFIG, AppConfig } from '../config/config';
import { MetricsService } from './metrics.service';

/** The event types the business metrics count, and the parts of their data they read (metering's and alerts' contracts). */
const COUNTED = ['UsageRecorded', 'UsageRefused', 'WebhookDeliveryAttempted'] as const;
type Recorded = {
  provider: string;
  operation: string;
  status: number;
  cost: string;
  latency_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
};
type Refused = { provider: string; limit: string; source: 'gateway' | 'check' };
type DeliveryAttempt = { ok: boolean; gave_up: boolean };

/** Upstream durations from 10 ms to 10 minutes (an SDK's own timeout). */
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** A call's outcome label: answered by the provider (ok, or its 4xx/5xx), or refused by Tollgate before it went out. */
export function callOutcome(status: number): 'ok' | 'client_error' | 'upstream_error' {
  return status < 400 ? 'ok' : status < 500 ? 'client_error' : 'upstream_error';
}

/**
 * The counters that come from the event log, kept by folding events (pure bookkeeping, testable without Nest).
 * Costs add up as exact decimals and are handed to Prometheus as numbers only when scraped.
 */
export class LogCounters {
  readonly calls: Counter<'provider' | 'operation' | 'outcome'>;
  readonly tokens: Counter<'provider' | 'kind'>;
  readonly cost: Counter<'provider'>;
  readonly refusals: Counter<'provider' | 'limit'>;
  readonly upstream: Histogram<'provider'>;
  readonly deliveries: Counter<'outcome'>;
  private readonly costs = new Map<string, Decimal>();
  private readonly callChildren = new Map<string, { inc(n?: number): void }>();
  private readonly byProvider = new Map<string, Record<'input' | 'output' | 'cache_read' | 'cache_write' | 'reasoning', { inc(n?: number): void }> & { upstream: { observe(v: number): void } }>();

  constructor(metrics: MetricsService) {
    this.calls = metrics.counter('tollgate_calls_total', 'Calls recorded or refused, by provider, operation and outcome (ok, client_error, upstream_error, refused)', ['provider', 'operation', 'outcome']);
    this.tokens = metrics.counter('tollgate_tokens_total', 'Tokens of recorded calls by provider and kind (input is the whole prompt; reasoning is part of output)', ['provider', 'kind']);
    const costs = this.costs;
    this.cost = new Counter({
      name: 'tollgate_cost_usd_total',
      help: 'Cost of recorded calls in USD by provider (summed exactly, exposed as a number)',
      labelNames: ['provider'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [provider, total] of costs) this.inc({ provider }, total.toNumber());
      },
    });
    this.refusals = metrics.counter('tollgate_refusals_total', 'Calls refused by a plan limit (gateway and /api/usage/check), by provider and limit', ['provider', 'limit']);
    this.upstream = metrics.histogram('tollgate_upstream_duration_seconds', "Gateway calls' upstream latency (UsageRecorded.latency_ms) by provider", ['provider'], UPSTREAM_BUCKETS);
    this.deliveries = metrics.counter('tollgate_webhook_deliveries_total', 'Webhook delivery attempts by outcome (delivered, retrying, gave_up)', ['outcome']);
  }

  apply(events: readonly StoredEvent[]): void {
    for (const e of events) {
      switch (e.type) {
        case 'UsageRecorded': {
          const d = e.data as Recorded;
          const outcome = callOutcome(d.status);
          const operation = d.operation || 'unknown';
          let calls = this.callChildren.get(`${d.provider}\u0000${operation}\u0000${outcome}`);
          if (!calls) this.callChildren.set(`${d.provider}\u0000${operation}\u0000${outcome}`, (calls = this.calls.labels({ provider: d.provider, operation, outcome })));
          calls.inc();
          const p = this.providerChildren(d.provider);
          if (d.input_tokens > 0) p.input.inc(d.input_tokens);
          if (d.output_tokens > 0) p.output.inc(d.output_tokens);
          if (d.cache_read_tokens > 0) p.cache_read.inc(d.cache_read_tokens);
          if (d.cache_write_tokens > 0) p.cache_write.inc(d.cache_write_tokens);
          if (d.reasoning_tokens > 0) p.reasoning.inc(d.reasoning_tokens);
          if (d.cost && d.cost !== '0') this.costs.set(d.provider, (this.costs.get(d.provider) ?? new Decimal(0)).plus(d.cost));
          if (typeof d.latency_ms === 'number') p.upstream.observe(d.latency_ms / 1000);
          break;
        }
        case 'UsageRefused': {
          const d = e.data as Refused;
          this.refusals.inc({ provider: d.provider, limit: d.limit });
          if (d.source !== 'check') this.calls.inc({ provider: d.provider, operation: 'unknown', outcome: 'refused' });
          break;
        }
        case 'WebhookDeliveryAttempted': {
          const d = e.data as DeliveryAttempt;
          this.deliveries.inc({ outcome: d.ok ? 'delivered' : d.gave_up ? 'gave_up' : 'retrying' });
          break;
        }
      }
    }
  }

  /** Label-bound children, made once per label set: an increment then hashes no labels (half the cost per event). */
  private providerChildren(provider: string) {
    let c = this.byProvider.get(provider);
    if (!c) {
      const kind = (k: string) => this.tokens.labels({ provider, kind: k });
      c = { input: kind('input'), output: kind('output'), cache_read: kind('cache_read'), cache_write: kind('cache_write'), reasoning: kind('reasoning'), upstream: this.upstream.labels({ provider }) };
      this.byProvider.set(provider, c);
    }
    return c;
  }
}

/**
 * The business metrics of `/metrics`, from the event log and from what the process already knows, so the gateway's
 * per-call path does no extra work: the server follows the log from its head at boot (Prometheus counters count from
 * the process's start; a restart neither replays nor double counts). On several instances sharing the log each one
 * reports the whole fleet's calls: aggregate them with max(), not sum() (docs/grafana-dashboard.json does).
 * Projection lag and the usage ledger's size are read when scraped.
 */
@Injectable()
export class BusinessMetrics implements OnApplicationBootstrap, OnModuleDestroy {
  private subscription: Subscription | null = null;
  readonly counters: LogCounters;

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly moduleRef: ModuleRef,
  ) {
    this.counters = new LogCounters(metrics);
    const self = this;
    new Gauge({
      name: 'tollgate_projection_lag_events',
      help: 'Events in the log a projection has not applied yet',
      labelNames: ['projection'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const p of await self.projectionStatus()) this.set({ projection: p.name }, p.lag);
      },
    });
    new Gauge({
      name: 'tollgate_usage_ledger_periods',
      help: 'Periods (user x billing period) the in-memory usage ledger holds: its size, which grows with active users',
      registers: [metrics.registry],
      collect() {
        this.set(self.ledgerPeriods());
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.role !== 'server') return;
    const head = await this.events.headPosition();
    this.subscription = this.events.subscribeToAll((events) => this.counters.apply(events), { after: head, types: COUNTED, batchSize: 2000 });
  }

  async onModuleDestroy(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  /** Resolves once every event stored when called is counted (tests). */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  private async projectionStatus(): Promise<Array<{ name: string; lag: number }>> {
    try {
      const { PROJECTION_RUNNER } = await import('./infrastructure.module');
      return await this.moduleRef.get(PROJECTION_RUNNER, { strict: false }).get().status();
    } catch {
      return [];
    }
  }

  private ledgerPeriods(): number {
    try {
      const { UsageLedger } = require('../metering/application/usage-ledger') as typeof import('../metering/application/usage-ledger');
      const ledger = this.moduleRef.get(UsageLedger, { strict: false });
      // Its map of periods; countedPeriods() copies it (a fallback should the field be renamed).
      const periods = (ledger as unknown as { periods?: Map<string, unknown> }).periods;
      return periods instanceof Map ? periods.size : ledger.countedPeriods().size;
    } catch {
      return 0;
    }
  }
}
