import { hash } from 'crypto';

/** A usage event an application reports for a call it made itself, after validation and defaults. */
export interface ReportedUsage {
  id: string;
  user_id: string;
  provider: string;
  model: string;
  operation: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  units: number;
  /** ISO 8601, normalised (toISOString). */
  occurred_at: string;
  latency_ms: number | null;
  status: number;
  streamed: boolean;
  estimated: boolean;
}

export type ParsedReport = { ok: true; usage: ReportedUsage } | { ok: false; id: string | null; reason: string };

const TOKEN_FIELDS = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'reasoning_tokens'] as const;
const ID = /^[\x21-\x7e]{1,200}$/;
/** How far ahead of the clock an event may claim to have happened (clock skew). */
const FUTURE_SKEW_MS = 5 * 60_000;

const DEFAULT_OPERATION: Record<string, string> = {
  tavily: 'search',
  serper: 'search',
  exa: 'search',
  firecrawl: 'scrape',
  stability: 'image',
};

/** Aliases a client may use for a provider id. */
const PROVIDER_ALIASES: Record<string, string> = { metaphor: 'exa' };

/**
 * Validates one reported event, pure: a reason per problem, so one bad event is rejected alone. `providers` is the list
 * of known provider ids; `now` bounds occurred_at (no event from the future beyond clock skew).
 */
export function parseReportedUsage(raw: unknown, providers: readonly string[], now: Date): ParsedReport {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, id: null, reason: 'each event must be a JSON object' };
  const r = raw as Record<string, unknown>;
  const id = typeof r.id === 'string' ? r.id : null;
  const reject = (reason: string): ParsedReport => ({ ok: false, id, reason });
  if (id === null || !ID.test(id)) return reject('id must be a string of 1 to 200 printable characters without spaces');
  if (typeof r.user_id !== 'string' || !ID.test(r.user_id)) return reject('user_id must be a string of 1 to 200 printable characters without spaces');
  if (typeof r.provider !== 'string') return reject(`provider is required (one of ${providers.join(', ')})`);
  const provider = PROVIDER_ALIASES[r.provider.toLowerCase()] ?? r.provider.toLowerCase();
  if (!providers.includes(provider)) return reject(`unknown provider "${r.provider}" (one of ${providers.join(', ')})`);
  if (r.model !== undefined && (typeof r.model !== 'string' || r.model.length > 200)) return reject('model must be a string of at most 200 characters');
  const model = typeof r.model === 'string' ? r.model : '';
  if (r.operation !== undefined && (typeof r.operation !== 'string' || !/^[a-z0-9_.-]{1,50}$/i.test(r.operation))) return reject('operation must be a short word');
  const tokens: Record<string, number> = {};
  for (const f of TOKEN_FIELDS) {
    const v = r[f] ?? 0;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return reject(`${f} must be a whole number >= 0`);
    tokens[f] = v;
  }
  if (tokens.cache_read_tokens + tokens.cache_write_tokens > tokens.input_tokens)
    return reject('input_tokens is the whole prompt: it must include cache_read_tokens and cache_write_tokens');
  if (tokens.reasoning_tokens > tokens.output_tokens) return reject('output_tokens must include reasoning_tokens');
  const units = r.units ?? 0;
  if (typeof units !== 'number' || !Number.isFinite(units) || units < 0 || units > 1e9) return reject('units must be a number >= 0');
  if (typeof r.occurred_at !== 'string') return reject('occurred_at is required (ISO 8601 time)');
  const at = Date.parse(r.occurred_at);
  if (!Number.isFinite(at) || !/^\d{4}-\d{2}-\d{2}T/.test(r.occurred_at)) return reject('occurred_at must be an ISO 8601 time');
  if (at > now.getTime() + FUTURE_SKEW_MS) return reject('occurred_at is in the future');
  const latency = r.latency_ms ?? null;
  if (latency !== null && (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0)) return reject('latency_ms must be a number >= 0');
  const status = r.status ?? 200;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return reject('status must be an HTTP status (100-599)');
  for (const f of ['streamed', 'estimated'] as const) if (r[f] !== undefined && typeof r[f] !== 'boolean') return reject(`${f} must be true or false`);
  return {
    ok: true,
    usage: {
      id,
      user_id: r.user_id,
      provider,
      model,
      operation: (r.operation as string | undefined) ?? DEFAULT_OPERATION[provider] ?? 'chat',
      input_tokens: tokens.input_tokens,
      output_tokens: tokens.output_tokens,
      cache_read_tokens: tokens.cache_read_tokens,
      cache_write_tokens: tokens.cache_write_tokens,
      reasoning_tokens: tokens.reasoning_tokens,
      units,
      occurred_at: new Date(at).toISOString(),
      latency_ms: latency as number | null,
      status,
      streamed: (r.streamed as boolean | undefined) ?? false,
      estimated: (r.estimated as boolean | undefined) ?? false,
    },
  };
}

/**
 * A hash of the canonical payload (fixed field order, defaults applied): the same id with another payload is a conflict.
 * crypto.hash: one call, no Hash object per event.
 */
export function payloadHash(u: ReportedUsage): string {
  const canonical = [
    u.id, u.user_id, u.provider, u.model, u.operation, u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens,
    u.reasoning_tokens, u.units, u.occurred_at, u.latency_ms, u.status, u.streamed, u.estimated,
  ];
  return hash('sha256', JSON.stringify(canonical), 'hex').slice(0, 32);
}
