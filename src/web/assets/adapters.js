// Turn the API's JSON (DESIGN.md's contract) into what the views draw. Tolerant of optional fields: a figure the
// API does not give is shown as "–", never invented.

import { parseLimit } from './format.js';

const firstDefined = (...vals) => vals.find((v) => v !== undefined && v !== null);
const asNumber = (v) => (v === undefined || v === null || v === '' || Number.isNaN(Number(v)) ? null : Number(v));

/** The current period's figures from the dashboard and usage responses (dashboard first: it is the spec's shape). */
export function summary({ dashboard, usage, status }) {
  const d = dashboard ?? {};
  const u = usage ?? {};
  const s = status ?? {};
  const cu = d.current_usage ?? u.current_usage ?? {};
  const limitsBlock = d.limits ?? u.limits ?? {};
  const limits = limitsBlock && typeof limitsBlock.limits === 'object' && limitsBlock.limits !== null ? limitsBlock.limits : typeof limitsBlock === 'object' ? Object.fromEntries(Object.entries(limitsBlock).filter(([, v]) => typeof v === 'number')) : {};
  const percentages = d.usage_percentages ?? u.usage_percentages ?? {};
  const breakdown = cu.provider_breakdown ?? {};
  const period = d.period ?? u.period ?? {};
  const sub = s.subscription ?? s.current_subscription ?? {};
  return {
    planName: firstDefined(limitsBlock.plan_name, d.plan_name, u.plan_name, s.plan_name, sub.plan_name, s.plan?.name, s.current_plan?.name, typeof s.plan === 'string' ? s.plan : undefined, s.plan_id),
    planId: firstDefined(limitsBlock.plan_id, d.plan_id, s.plan_id, sub.plan_id, s.plan?.plan_id),
    billingCycle: firstDefined(d.billing_cycle, s.billing_cycle, sub.billing_cycle, u.billing_cycle),
    subscriptionStatus: firstDefined(s.status, sub.status, d.subscription_status),
    periodStart: firstDefined(u.period_start, d.period_start, period.start, period.period_start, s.period_start, s.current_period_start, sub.period_start),
    periodEnd: firstDefined(u.period_end, d.period_end, period.end, period.period_end, s.period_end, s.current_period_end, sub.period_end, s.next_billing_date),
    daysRemaining: asNumber(firstDefined(s.days_remaining_in_period, d.days_remaining_in_period, u.days_remaining_in_period)),
    asOf: firstDefined(d.as_of, d.generated_at, u.as_of, u.generated_at, s.as_of),
    totalCalls: asNumber(cu.total_calls) ?? 0,
    totalCost: asNumber(cu.total_cost) ?? 0,
    totalTokens: asNumber(firstDefined(cu.total_tokens, Object.values(breakdown).reduce((a, p) => a + (Number(p?.tokens) || 0), 0))),
    usageStatus: firstDefined(cu.usage_status, d.usage_status, u.usage_status),
    breakdown,
    limits,
    percentages,
    thresholds: firstDefined(d.alert_thresholds, limitsBlock.alert_thresholds, s.alert_thresholds, u.alert_thresholds) ?? [80, 90, 100],
    projectedCost: asNumber(firstDefined(d.projections?.projected_monthly_cost, u.projections?.projected_monthly_cost)),
    projectedPercent: asNumber(firstDefined(d.projections?.projected_usage_percentage, u.projections?.projected_usage_percentage)),
    projectionMethod: firstDefined(d.projections?.method, d.projections?.projection_method, d.projections?.basis),
    usageTrend: firstDefined(d.usage_trend, s.usage_trend, u.usage_trend),
    recommendations: firstDefined(d.recommendations, s.recommendations, u.recommendations) ?? [],
    nextBillingAmount: asNumber(firstDefined(s.next_billing_amount, s.next_billing?.amount)),
  };
}

/** What one limit has used, from the current period's totals. */
export function usedFor(key, sum) {
  if (key === 'total_calls') return sum.totalCalls;
  if (key === 'total_tokens') return sum.totalTokens ?? 0;
  if (key === 'monthly_cost' || key === 'cost') return sum.totalCost;
  const { provider, unit } = parseLimit(key);
  if (provider && (unit === 'calls' || unit === 'tokens')) return Number(sum.breakdown[provider]?.[unit] ?? 0);
  return null;
}

/** One row per limit: used, limit, percent (the API's figure when it gives one). Ordered: totals, providers, cost. */
export function limitRows(sum) {
  const order = (k) => (k === 'total_calls' ? 0 : k === 'total_tokens' ? 1 : k === 'monthly_cost' ? 3 : 2);
  return Object.entries(sum.limits)
    .filter(([, v]) => typeof v === 'number' && Number.isFinite(v))
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(([key, limit]) => {
      const used = usedFor(key, sum);
      const apiPercent = asNumber(firstDefined(sum.percentages[key], key === 'monthly_cost' ? sum.percentages.cost : undefined));
      const percent = apiPercent ?? (used === null ? null : limit > 0 ? (used / limit) * 100 : used > 0 ? 100 : 0);
      return { key, limit, used, percent };
    });
}

/** Providers with any usage this period, most expensive first. */
export function providerRows(sum) {
  return Object.entries(sum.breakdown)
    .map(([provider, p]) => ({
      provider,
      calls: Number(p?.calls ?? 0),
      tokens: Number(p?.tokens ?? 0),
      cost: Number(p?.cost ?? 0),
      errors: asNumber(p?.errors),
    }))
    .sort((a, b) => b.cost - a.cost || b.calls - a.calls || a.provider.localeCompare(b.provider));
}

function latencyOf(x) {
  const lat = [x.response_time_ms, x.latency_ms, x.latency].find((v) => v && typeof v === 'object') ?? {};
  return {
    p50: asNumber(firstDefined(lat.p50, x.p50_latency_ms, x.latency_p50_ms, x.p50, x.median_latency_ms)),
    p95: asNumber(firstDefined(lat.p95, x.p95_latency_ms, x.latency_p95_ms, x.p95)),
    p99: asNumber(firstDefined(lat.p99, x.p99_latency_ms, x.latency_p99_ms, x.p99)),
    avg: asNumber(firstDefined(lat.avg, lat.mean, x.avg_latency_ms, x.average_latency_ms)),
  };
}

/** Response times and error rates per provider (usage's `performance`, else the breakdown's own fields). */
export function performanceRows(sum, usage) {
  const perf = usage?.performance ?? {};
  const byProvider = perf.providers ?? perf.by_provider ?? perf.provider_breakdown ?? perf;
  const names = new Set([...Object.keys(sum.breakdown), ...Object.keys(byProvider ?? {}).filter((k) => typeof byProvider[k] === 'object' && byProvider[k] !== null)]);
  return [...names].sort().map((provider) => {
    const x = { ...(sum.breakdown[provider] ?? {}), ...(byProvider?.[provider] ?? {}) };
    const calls = asNumber(firstDefined(x.calls, x.total_calls)) ?? 0;
    const errors = asNumber(firstDefined(x.errors, x.error_count, x.failed_calls));
    let rate = asNumber(firstDefined(x.error_rate_percent, x.error_percentage));
    if (rate === null) {
      const r = asNumber(x.error_rate);
      rate = r === null ? (errors !== null && calls > 0 ? (errors / calls) * 100 : errors === 0 ? 0 : null) : r <= 1 && errors !== null && calls > 0 && Math.abs(r - errors / calls) < 1e-6 ? r * 100 : r;
    }
    return { provider, calls, errors, errorRate: rate, ...latencyOf(x) };
  });
}

/** Trend buckets: [{ start, total: {calls,tokens,cost}, providers: {p: {calls,tokens,cost}} }] and the providers seen. */
export function trendSeries(trends) {
  const t = trends ?? {};
  const raw = firstDefined(t.series, t.buckets, t.points, t.data, t.items, t.trends, Array.isArray(t) ? t : undefined) ?? [];
  const providers = new Set();
  const buckets = (Array.isArray(raw) ? raw : []).map((b) => {
    const start = firstDefined(b.start, b.date, b.day, b.month, b.period, b.bucket, b.period_start, b.bucket_start);
    const provs = firstDefined(b.providers, b.by_provider, b.provider_breakdown) ?? {};
    const out = {};
    for (const [p, v] of Object.entries(provs)) {
      providers.add(p);
      out[p] = { calls: Number(v?.calls ?? 0), tokens: Number(v?.tokens ?? 0), cost: Number(v?.cost ?? 0), units: Number(v?.units ?? 0) };
    }
    const total = b.total ?? b.totals ?? b;
    return { start, total: { calls: Number(total.calls ?? total.total_calls ?? 0), tokens: Number(total.tokens ?? total.total_tokens ?? 0), cost: Number(total.cost ?? total.total_cost ?? 0), units: Number(total.units ?? total.total_units ?? 0) }, providers: out };
  });
  // Per-provider series given apart from the buckets: { providers: { openai: [ {date, calls...} ] } }.
  if (t.providers && typeof t.providers === 'object' && !Array.isArray(t.providers)) {
    for (const [p, list] of Object.entries(t.providers)) {
      if (!Array.isArray(list)) continue;
      providers.add(p);
      list.forEach((v, i) => {
        const key = firstDefined(v.start, v.date, v.day, v.month, v.period, v.bucket);
        const bucket = buckets.find((b) => b.start === key) ?? buckets[i];
        if (bucket) bucket.providers[p] = { calls: Number(v.calls ?? 0), tokens: Number(v.tokens ?? 0), cost: Number(v.cost ?? 0), units: Number(v.units ?? 0) };
      });
    }
  }
  return { buckets, providers: [...providers].sort(), granularity: t.granularity, from: firstDefined(t.from, t.start), to: firstDefined(t.to, t.end) };
}

export function alertList(alerts) {
  const list = firstDefined(alerts?.alerts, alerts?.items, Array.isArray(alerts) ? alerts : undefined) ?? [];
  return [...list].sort((a, b) => Number(Boolean(a.is_read)) - Number(Boolean(b.is_read)) || String(b.created_at ?? '').localeCompare(String(a.created_at ?? '')));
}

export function billingRows(billing) {
  const list = firstDefined(billing?.billing_history, billing?.records, billing?.items, billing?.history, billing?.billing, Array.isArray(billing) ? billing : undefined) ?? [];
  return list.map((r) => {
    const plans = firstDefined(r.plans, r.plan_segments, r.segments);
    const planText = Array.isArray(plans) && plans.length ? plans.map((p) => p.plan_name ?? p.name ?? p.plan_id).filter(Boolean).join(', ') : firstDefined(r.plan_name, r.plan_id, r.plan);
    const usageCost = firstDefined(r.usage_cost, r.usage_total, r.usage?.total, r.usage?.cost);
    return {
      id: firstDefined(r.billing_id, r.record_id, r.id, `${r.period_start}`),
      periodStart: firstDefined(r.period_start, r.period?.start),
      periodEnd: firstDefined(r.period_end, r.period?.end),
      plan: planText,
      baseFee: asNumber(firstDefined(r.base_fee, r.base_fee_total, r.plan_fee)),
      usageCost: asNumber(typeof usageCost === 'object' && usageCost !== null ? usageCost.total : usageCost),
      total: asNumber(firstDefined(r.total, r.total_amount, r.amount)),
      currency: firstDefined(r.currency, 'USD'),
      status: firstDefined(r.status, 'pending'),
    };
  });
}

/** The users a tenant key can pick: from GET /api/tenant/keys (the user keys it issued), unique, sorted. */
export function tenantUsers(keys) {
  const list = firstDefined(keys?.keys, keys?.items, Array.isArray(keys) ? keys : undefined) ?? [];
  const users = new Set();
  for (const k of list) if (k && k.user_id && !k.revoked && !k.revoked_at) users.add(String(k.user_id));
  return [...users].sort();
}

export function logPage(logs) {
  return { items: firstDefined(logs?.items, logs?.logs, Array.isArray(logs) ? logs : undefined) ?? [], next: logs?.next_cursor ?? null };
}
