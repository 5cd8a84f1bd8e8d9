import { joinIdParts } from '../../libs/ids/composite-id';

/**
 * Metering's published events: other modules (alerts, dashboard, subscriptions) read these from the log.
 * Stored shapes are frozen: add an upcaster rather than edit a field.
 */

/** Token counts follow @pydantic/genai-prices: input_tokens is the whole prompt, cache reads and writes included. */
export interface UsageVector {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** Part of output_tokens (as OpenAI reports it); priced as output unless the price sets its own rate. */
  reasoning_tokens: number;
  /** Searches, pages, images, credits: whatever the provider bills per unit. */
  units: number;
}

export interface UsageRecordedData extends UsageVector {
  /** The gateway's request id, or the client's id of a reported event. */
  usage_id: string;
  tenant_id: string;
  user_id: string;
  provider: string;
  model: string;
  /** chat, messages, embeddings, search, scrape, image... */
  operation: string;
  /** 'gateway' or 'report'. */
  source: 'gateway' | 'report';
  /**
   * The catalog key the units were priced by when it is not the model's own price (an image's size and quality, a
   * server tool, a crawl's pages). Absent in events recorded before it existed and where the model's price applies.
   * A settlement of an async job's worst case carries negative units and cost.
   */
  unit_key?: string;
  /** Exact decimal string of the cost in USD. */
  cost: string;
  price_version: string;
  price_source: 'catalog' | 'fallback';
  latency_ms: number | null;
  /** The upstream HTTP status (200 for a reported event). */
  status: number;
  streamed: boolean;
  estimated: boolean;
  occurred_at: string;
  /** Billing period the usage counts in (set from the user's subscription when recorded). */
  period_start: string;
  period_end: string;
  plan_id: string;
  /** Reported events only: hash of the canonical reported payload (a repeat with another payload is a conflict). */
  payload_hash?: string;
}

export interface UsageRefusedData {
  usage_id: string;
  tenant_id: string;
  user_id: string;
  provider: string;
  model: string;
  /** The limit that refused the call ("openai_calls", "monthly_cost"...). */
  limit: string;
  limit_value: number;
  /** Usage of that limit when refused (counted + reserved). */
  used: number;
  /** What the call would have added. */
  requested: number;
  occurred_at: string;
  period_start: string;
  period_end: string;
  plan_id: string;
  source: 'gateway' | 'check';
}

export type MeteringEvent = { type: 'UsageRecorded'; data: UsageRecordedData } | { type: 'UsageRefused'; data: UsageRefusedData };

/**
 * One stream per recorded call, in a namespace per source: a reported id (the tenant's, unique per tenant) can never
 * name a gateway call's stream, so no report takes or changes a call Tollgate forwarded. The parts are length-prefixed
 * (tenant ids and reported ids may both contain `-`). `no_stream` on append makes a repeat a duplicate.
 */
export const usageStreamId = (tenantId: string, usageId: string, source: UsageRecordedData['source']) =>
  `${source === 'gateway' ? 'usage.gateway' : 'usage.report'}-${joinIdParts(tenantId, usageId)}`;

/**
 * The name every record had before (both sources): ambiguous (`acme` + `eu-1` and `acme-eu` + `1` meet), so it is only
 * read, to find a record stored under it, never written.
 */
export const legacyUsageStreamId = (tenantId: string, usageId: string) => `usage-${tenantId}-${usageId}`;
