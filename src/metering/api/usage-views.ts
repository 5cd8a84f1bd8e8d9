import { costToJson, Money } from '../../../libs/money';
import type { EffectiveSubscription } from '../../subscriptions';
import type { PeriodUsage } from '../application/admission';
import { parseLimitKey } from '../domain/limit-decision';
import type { UsageLogDoc } from '../projections/usage-log.projection';

const round2 = (n: number) => Math.round(n * 100) / 100;

/** How much of a limit the period's usage has used, from the summary. */
export function usedOf(key: string, u: PeriodUsage): Money {
  const parsed = parseLimitKey(key);
  if (!parsed) return new Money(0);
  if (parsed.measure === 'cost') return new Money(u.total_cost);
  if (parsed.scope === 'total') return new Money(parsed.measure === 'calls' ? u.total_calls : u.total_tokens);
  const p = u.providers[parsed.scope];
  return new Money(p ? (parsed.measure === 'calls' ? p.calls : p.tokens) : 0);
}

/** GET /api/subscription/usage/{user_id}: the current period's usage in the dashboard's shape. */
export function currentUsageView(userId: string, sub: EffectiveSubscription, u: PeriodUsage) {
  const percentages: Record<string, number> = {};
  let highest = 0;
  for (const [key, value] of Object.entries(sub.limits ?? {})) {
    if (!parseLimitKey(key) || typeof value !== 'number') continue;
    const used = usedOf(key, u);
    const pct = value > 0 ? round2(used.div(value).times(100).toNumber()) : used.gt(0) ? 100 : 0;
    percentages[key] = pct;
    if (key === 'monthly_cost') percentages.cost = pct;
    highest = Math.max(highest, pct);
  }
  const breakdown: Record<string, unknown> = {};
  const performance: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(u.providers)) {
    breakdown[name] = {
      calls: p.calls,
      cost: costToJson(p.cost),
      cost_exact: p.cost,
      tokens: p.tokens,
      input_tokens: p.input_tokens,
      output_tokens: p.output_tokens,
      cache_read_tokens: p.cache_read_tokens,
      cache_write_tokens: p.cache_write_tokens,
      reasoning_tokens: p.reasoning_tokens,
      units: p.units,
      errors: p.errors,
      refused: p.refused,
    };
    performance[name] = {
      calls: p.calls,
      errors: p.errors,
      error_rate: p.calls ? round2((p.errors / p.calls) * 100) : 0,
      response_time_ms: p.latency_ms,
    };
  }
  return {
    user_id: userId,
    tenant_id: sub.tenant_id,
    plan_id: sub.plan_id,
    period_start: u.period_start,
    period_end: u.period_end,
    current_usage: {
      total_calls: u.total_calls,
      total_tokens: u.total_tokens,
      total_cost: costToJson(u.total_cost),
      total_cost_exact: u.total_cost,
      refused_calls: u.refused_calls,
      errors: u.errors,
      usage_status: highest >= 100 ? 'limit_reached' : highest >= 80 ? 'warning' : 'active',
      provider_breakdown: breakdown,
    },
    limits: { plan_name: sub.plan_name, limits: sub.limits ?? {} },
    usage_percentages: percentages,
    performance: {
      error_rate: u.total_calls ? round2((u.errors / u.total_calls) * 100) : 0,
      providers: performance,
    },
  };
}

/** One item of GET .../logs: counts, model, timing; the cost as a 6-dp number and as the exact decimal. */
export function logItem(d: UsageLogDoc) {
  return {
    id: d.id,
    kind: d.kind,
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
    cost: costToJson(d.cost),
    cost_exact: d.cost,
    price_source: d.price_source,
    latency_ms: d.latency_ms,
    status: d.status,
    outcome: d.outcome,
    estimated: d.estimated,
    streamed: d.streamed,
    limit: d.limit,
    occurred_at: d.occurred_at,
  };
}

export const CSV_COLUMNS = [
  'id', 'occurred_at', 'kind', 'source', 'provider', 'model', 'operation', 'input_tokens', 'output_tokens', 'cache_read_tokens',
  'cache_write_tokens', 'reasoning_tokens', 'units', 'cost_exact', 'price_source', 'latency_ms', 'status', 'outcome', 'estimated', 'streamed', 'limit',
] as const;

/**
 * One CSV field. A string that a spreadsheet would read as a formula (it begins with =, +, -, @, tab or CR) gets a
 * leading single quote and is quoted (OWASP's rule); so does a string that looks like a negative number: only a
 * numeric column (a JS number, never negative here) is written bare.
 */
function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(item: ReturnType<typeof logItem>): string {
  return CSV_COLUMNS.map((c) => csvCell(item[c])).join(',');
}
