/**
 * What the drills do to a fleet: set a tenant up through the public API, call the gateway like an SDK would, report
 * usage with client ids and retries, and check the pass rule of the crash drills against the stores.
 */
import { randomUUID } from 'crypto';
import { Cluster, HttpResult, Instance, sleep } from '../../support/cluster';
import { eventsOfTypes } from './stores';

export interface TenantSetup {
  tenantId: string;
  tenantKey: string;
  planId: string;
}

/** Creates (or re-puts) a plan, a tenant on it, a tenant key, and stored provider keys. Idempotent per ids. */
export async function setupTenant(
  inst: Instance,
  adminKey: string,
  o: { tenantId: string; planId: string; limits: Record<string, number>; alertThresholds?: number[]; providerKeys?: Record<string, string> },
): Promise<TenantSetup> {
  const plan = await inst.request('PUT', `/api/admin/plans/${o.planId}`, {
    key: adminKey,
    body: { name: `Drill ${o.planId}`, monthly_price: 0, yearly_price: 0, limits: o.limits, alert_thresholds: o.alertThresholds ?? [80, 90, 100] },
  });
  expectOk(plan, 'PUT plan');
  const tenant = await inst.request('POST', '/api/admin/tenants', { key: adminKey, body: { tenant_id: o.tenantId, name: `Drill ${o.tenantId}`, default_plan_id: o.planId } });
  if (tenant.status !== 409) expectOk(tenant, 'POST tenant');
  const key = await inst.request('POST', `/api/admin/tenants/${o.tenantId}/keys`, { key: adminKey, body: { role: 'tenant' } });
  expectOk(key, 'POST tenant key');
  const tenantKey = String(key.body.key);
  for (const [provider, apiKey] of Object.entries(o.providerKeys ?? { openai: 'sk-drill-provider-key-000000000000' })) {
    const r = await inst.request('PUT', `/api/tenant/provider-keys/${provider}`, { key: tenantKey, body: { api_key: apiKey } });
    expectOk(r, `PUT provider key ${provider}`);
  }
  return { tenantId: o.tenantId, tenantKey, planId: o.planId };
}

export function expectOk(r: HttpResult, what: string): void {
  if (r.status < 200 || r.status >= 300) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
}

/** An OpenAI chat completion through the gateway with a tenant key naming the end user. */
export function chat(inst: Instance, key: string, userId: string, o: { mode?: string; stream?: boolean; model?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<HttpResult> {
  const body: any = { model: o.model ?? 'gpt-4', messages: [{ role: 'user', content: `mode:${o.mode ?? 'ok'} hello there` }] };
  if (o.stream) body.stream = true;
  return inst.request('POST', '/proxy/openai/v1/chat/completions', { key, body, headers: { 'x-tollgate-user': userId, ...(o.headers ?? {}) }, timeoutMs: o.timeoutMs });
}

export interface ReportEvent {
  id: string;
  user_id: string;
  provider: string;
  model: string;
  input_tokens: number;
  output_tokens: number;
  occurred_at: string;
}

export function reportEvent(userId: string, at: Date = new Date(), id: string = randomUUID()): ReportEvent {
  return { id, user_id: userId, provider: 'openai', model: 'gpt-4', input_tokens: 100, output_tokens: 20, occurred_at: at.toISOString() };
}

/**
 * Reports a batch, retrying on any instance until it is answered (a connection error or a 5xx is retried with the
 * same ids, like a careful client). Returns the ids the server acknowledged (accepted or duplicate).
 */
export async function reportWithRetry(cluster: Cluster, key: string, events: ReportEvent[], o: { maxAttempts?: number; onAttempt?: (ok: boolean) => void } = {}): Promise<{ acked: string[]; attempts: number; results: any[] }> {
  let attempts = 0;
  for (;;) {
    attempts++;
    let inst: Instance;
    try {
      inst = cluster.pick();
    } catch {
      await sleep(100);
      continue;
    }
    try {
      const r = await inst.request('POST', '/api/usage/events', { key, body: { events }, timeoutMs: 20_000 });
      if (r.status === 200 && Array.isArray(r.body?.results)) {
        o.onAttempt?.(true);
        const acked = r.body.results.filter((x: any) => x.status === 'accepted' || x.status === 'duplicate').map((x: any) => String(x.id));
        return { acked, attempts, results: r.body.results };
      }
      if (r.status < 500 && r.status !== 401 && r.status !== 429) throw new Error(`report answered ${r.status}: ${r.text.slice(0, 300)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('report answered')) throw err;
    }
    o.onAttempt?.(false);
    if (attempts >= (o.maxAttempts ?? 200)) throw new Error(`report not acknowledged after ${attempts} attempts`);
    await sleep(50 + Math.random() * 100);
  }
}

export interface UsageCheck {
  /** Distinct usage ids recorded in the log. */
  recorded: number;
  /** Acknowledged report ids with no UsageRecorded. */
  lost: string[];
  /** Usage ids recorded more than once (per tenant). */
  doubled: string[];
  /** Recorded ids the client never sent (should be none for reports). */
  unknown: number;
}

/** The crash drills' pass rule on the log: every acknowledged id is recorded, none twice. */
export function checkUsage(dataDir: string, tenantId: string, acknowledged: Iterable<string>, source: 'report' | 'gateway' | 'any' = 'report'): UsageCheck {
  const events = eventsOfTypes(dataDir, ['UsageRecorded']).filter((e) => e.data.tenant_id === tenantId && (source === 'any' || e.data.source === source));
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.data.usage_id, (counts.get(e.data.usage_id) ?? 0) + 1);
  const acked = new Set(acknowledged);
  return {
    recorded: counts.size,
    lost: [...acked].filter((id) => !counts.has(id)),
    doubled: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    unknown: [...counts.keys()].filter((id) => !acked.has(id)).length,
  };
}

/** The current period's totals for a user, as the API serves them. */
export async function usageOf(inst: Instance, key: string, userId: string): Promise<{ total_calls: number; refused_calls: number; period_start: string | null; body: any }> {
  const r = await inst.request('GET', `/api/subscription/usage/${encodeURIComponent(userId)}`, { key });
  if (r.status === 404) return { total_calls: 0, refused_calls: 0, period_start: null, body: r.body }; // a user with no usage yet
  expectOk(r, 'GET usage');
  const cu = r.body.current_usage ?? r.body;
  return { total_calls: Number(cu.total_calls), refused_calls: Number(cu.refused_calls ?? 0), period_start: r.body.period_start ?? null, body: r.body };
}

/** Waits until every running instance reports its projections caught up (lag 0) on /ready. */
export async function waitCaughtUp(cluster: Cluster, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let all = true;
    for (const i of cluster.instances.filter((x) => x.running)) {
      const r = await i.request('GET', '/ready', { key: cluster.adminKey }).catch(() => null);
      if (!r || r.status !== 200 || Number(r.body?.projection_lag ?? 1) !== 0) all = false;
    }
    if (all) return;
    if (Date.now() > deadline) throw new Error('projections did not catch up');
    await sleep(100);
  }
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/**
 * Compares each user's served summary with the log: the calls recorded for the period the API serves must equal its
 * total_calls. Usage recorded in another period (see the report: usage older than a new user's default subscription
 * lands a period earlier) is counted apart, in `otherPeriods`.
 */
export async function compareSummaries(cluster: Cluster, dataDir: string, key: string, tenantId: string, users: string[]): Promise<{ mismatches: string[]; otherPeriods: number }> {
  const all = eventsOfTypes(dataDir, ['UsageRecorded']).filter((e) => e.data.tenant_id === tenantId);
  const mismatches: string[] = [];
  let otherPeriods = 0;
  for (const u of users) {
    const served = await usageOf(cluster.pick(), key, u);
    const mine = all.filter((e) => e.data.user_id === u);
    const inPeriod = new Set(mine.filter((e) => served.period_start === null || new Date(e.data.period_start).getTime() === new Date(served.period_start).getTime()).map((e) => e.data.usage_id)).size;
    otherPeriods += mine.length - inPeriod;
    if (served.total_calls !== inPeriod) mismatches.push(`${u}: summary ${served.total_calls}, log ${inPeriod} in period ${served.period_start}`);
  }
  return { mismatches, otherPeriods };
}

/** Subscribes each user (so the period exists before any usage is reported for it). */
export async function subscribeUsers(inst: Instance, key: string, users: string[], planId: string): Promise<void> {
  for (const u of users) expectOk(await inst.request('POST', '/api/subscription/subscribe', { key, body: { user_id: u, plan_id: planId, billing_cycle: 'monthly' } }), `subscribe ${u}`);
}
