import Decimal from 'decimal.js';
import { BusinessMetrics } from '../../src/shell/business-metrics';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp } from '../support/test-app';

const METRICS_KEY = 'metrics-key-0123456789abcdef';

/** The value of one series of the Prometheus text, or null when it is absent. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : null;
}

describe('Business metrics in /metrics, from the event log, behind TOLLGATE_METRICS_KEY', () => {
  let t: TestApp;
  let fake: FakeProvider;
  let metrics: string;
  let costs: string[];

  beforeAll(async () => {
    fake = await startFake('openai');
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: fake.url, TOLLGATE_METRICS_KEY: METRICS_KEY } });
    const tenant = await setupTenant(t, { tenantId: 'metrics-shop', providers: ['openai'], users: ['u1'], plan: { id: 'metrics-two', limits: { openai_calls: 2 } } });
    const call = () =>
      fetch(`${t.url}/proxy/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tenant.userKeys.u1}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }], max_tokens: 50 }),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await call()).status);
    expect(statuses).toEqual([200, 200, 429]);
    await t.settle();
    await t.app.get(BusinessMetrics).caughtUp();
    const logs = await t.request('GET', '/api/subscription/usage/u1/logs?limit=10', { key: tenant.tenantKey });
    costs = logs.body.items.map((i: any) => i.cost_exact);
    metrics = (await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_KEY}` } })).text;
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  it('counts the calls by provider, operation and outcome, the refusal by limit, and no tenant or user label', () => {
    expect(sample(metrics, 'tollgate_calls_total{provider="openai",operation="chat",outcome="ok"}')).toBe(2);
    expect(sample(metrics, 'tollgate_calls_total{provider="openai",operation="unknown",outcome="refused"}')).toBe(1);
    expect(sample(metrics, 'tollgate_refusals_total{provider="openai",limit="openai_calls"}')).toBe(1);
    expect(metrics).not.toMatch(/metrics-shop|u1"|tenant=|user=/);
  });

  it('counts the tokens by kind as the fake provider reported them (120 prompt with 20 cached, 45 completion with 5 reasoning, twice)', () => {
    expect(sample(metrics, 'tollgate_tokens_total{provider="openai",kind="input"}')).toBe(240);
    expect(sample(metrics, 'tollgate_tokens_total{provider="openai",kind="output"}')).toBe(90);
    expect(sample(metrics, 'tollgate_tokens_total{provider="openai",kind="cache_read"}')).toBe(40);
    expect(sample(metrics, 'tollgate_tokens_total{provider="openai",kind="reasoning"}')).toBe(10);
    expect(sample(metrics, 'tollgate_tokens_total{provider="openai",kind="cache_write"}')).toBeNull();
  });

  it("sums the cost exactly: the usage log's costs (two calls and a refusal that cost nothing)", () => {
    expect(costs).toHaveLength(3);
    const total = costs.reduce((s, c) => s.plus(c), new Decimal(0));
    expect(total.gt(0)).toBe(true);
    expect(sample(metrics, 'tollgate_cost_usd_total{provider="openai"}')).toBe(total.toNumber());
  });

  it('has the upstream and append histograms, projection lag per projection and the ledger size', () => {
    expect(sample(metrics, 'tollgate_upstream_duration_seconds_count{provider="openai"}')).toBe(2);
    expect(sample(metrics, 'tollgate_event_append_duration_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(sample(metrics, 'tollgate_projection_lag_events{projection="usage-summaries"}')).toBe(0);
    expect(sample(metrics, 'tollgate_usage_ledger_periods')).toBe(1);
    expect(metrics).toContain('# TYPE tollgate_webhook_deliveries_total counter');
  });

  it('answers 401 in the one error shape without the metrics key, or with another', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-key-0123456789abcdef' }]) {
      const r = await t.request('GET', '/metrics', { headers });
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('TOLLGATE_METRICS_KEY'), details: {} } });
    }
  });

  it('given a restart on the same data, when scraped, then the counters start from zero: the log is followed from its head, not replayed', async () => {
    const dataDir = t.dataDir;
    await t.close();
    t = await startTestApp({ dataDir, env: { TOLLGATE_UPSTREAM_OPENAI: fake.url } });
    await t.app.get(BusinessMetrics).caughtUp();
    const text = (await t.request('GET', '/metrics')).text;
    expect(sample(text, 'tollgate_calls_total{provider="openai",operation="chat",outcome="ok"}')).toBeNull();
    expect(text).toContain('# TYPE tollgate_calls_total counter');
  });
});
