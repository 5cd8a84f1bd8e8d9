import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import type { MeteringEvent } from '../contracts';
import { isoTime } from '../../../libs/clock';

export const API_USAGE_LOGS = 'api_usage_logs';

/** One line of a user's usage log: counts, model and timing of a call or a refusal, never its content. */
export interface UsageLogDoc {
  _id: string;
  [key: string]: unknown;
  tenant_id: string;
  user_id: string;
  /** The usage id: the reported id, or the gateway's request id. */
  id: string;
  kind: 'call' | 'refusal';
  source: string;
  provider: string;
  model: string;
  operation: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  units: number;
  /** Exact decimal string. */
  cost: string;
  price_source: string | null;
  price_version: string | null;
  latency_ms: number | null;
  /** Upstream HTTP status (429 for a refusal). */
  status: number;
  /** ok (status < 400), error, or refused. */
  outcome: 'ok' | 'error' | 'refused';
  streamed: boolean;
  estimated: boolean;
  occurred_at: string;
  period_start: string;
  limit: string | null;
  limit_value: number | null;
}

/** Pure: the log line of an event. */
export function logLine(event: MeteringEvent): UsageLogDoc {
  switch (event.type) {
    case 'UsageRecorded': {
      const d = event.data;
      return {
        // A gateway call and a report may carry the same id (their streams are apart): their lines are apart too.
        _id: `${d.tenant_id}|${d.source === 'gateway' ? 'g' : 'c'}|${d.usage_id}`,
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        id: d.usage_id,
        kind: 'call',
        source: d.source,
        provider: d.provider,
        model: d.model,
        operation: d.operation,
        input_tokens: d.input_tokens,
        output_tokens: d.output_tokens,
        cache_read_tokens: d.cache_read_tokens,
        cache_write_tokens: d.cache_write_tokens,
        reasoning_tokens: d.reasoning_tokens,
        units: d.units,
        cost: d.cost,
        price_source: d.price_source,
        price_version: d.price_version,
        latency_ms: d.latency_ms,
        status: d.status,
        outcome: d.status >= 400 ? 'error' : 'ok',
        streamed: d.streamed,
        estimated: d.estimated,
        occurred_at: isoTime(d.occurred_at),
        period_start: isoTime(d.period_start),
        limit: null,
        limit_value: null,
      };
    }
    case 'UsageRefused': {
      const d = event.data;
      return {
        _id: `${d.tenant_id}|r|${d.usage_id}`,
        tenant_id: d.tenant_id,
        user_id: d.user_id,
        id: d.usage_id,
        kind: 'refusal',
        source: d.source,
        provider: d.provider,
        model: d.model,
        operation: null,
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        units: 0,
        cost: '0',
        price_source: null,
        price_version: null,
        latency_ms: null,
        status: 429,
        outcome: 'refused',
        streamed: false,
        estimated: false,
        occurred_at: isoTime(d.occurred_at),
        period_start: isoTime(d.period_start),
        limit: d.limit,
        limit_value: d.limit_value,
      };
    }
    default: {
      const never: never = event;
      throw new Error(`Unhandled event ${(never as { type: string }).type}`);
    }
  }
}

/** api_usage_logs: every call and refusal, one line each, for the newest-first log and its CSV export. */
export class UsageLogProjection implements Projection {
  readonly name = 'api-usage-logs';
  readonly eventTypes = ['UsageRecorded', 'UsageRefused'] as const;
  readonly collections = [API_USAGE_LOGS] as const;

  async setup(store: ReadStore): Promise<void> {
    await store.collection(API_USAGE_LOGS).ensureIndex(['tenant_id', 'user_id', 'occurred_at', '_id']);
  }

  async handle(event: StoredEvent, batch: ProjectionBatch): Promise<void> {
    await batch.collection<UsageLogDoc>(API_USAGE_LOGS).put(logLine({ type: event.type, data: event.data } as MeteringEvent));
  }
}
