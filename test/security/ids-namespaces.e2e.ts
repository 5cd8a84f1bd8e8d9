import OpenAI from 'openai';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FAKE_USAGE } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Ids a tenant chooses must never reach another tenant's records, nor the records of calls Tollgate forwarded. */
describe('Ids: no report pre-empts a gateway call or another tenant’s report', () => {
  let t: TestApp;
  let fake: FakeProvider;
  let shop: GatewayTenant;

  beforeAll(async () => {
    fake = await startFake('openai');
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: fake.url } });
    shop = await setupTenant(t, { tenantId: 'ns-shop', providers: ['openai'], users: ['mia'] });
    expect(
      (await t.request('PUT', '/api/admin/pricing/openai/openai-test', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '2', output_mtok: '8' }, effective_from: '2025-01-01T00:00:00Z' } })).status,
    ).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const report = (key: string, id: string, user: string, extra: Record<string, unknown> = {}) =>
    t.request('POST', '/api/usage/events', {
      key,
      body: { events: [{ id, user_id: user, provider: 'openai', model: 'gpt-4', input_tokens: 0, output_tokens: 0, occurred_at: t.clock.now().toISOString(), ...extra }] },
    });

  it('records a streamed gateway call with the provider’s tokens even when a report takes its request id while it runs', async () => {
    fake.gapMs = 40;
    try {
      const client = new OpenAI({ apiKey: shop.userKeys.mia, baseURL: `${t.url}/proxy/openai/v1`, maxRetries: 0 });
      const { data: stream, response } = await client.chat.completions
        .create({ model: 'openai-test', messages: [{ role: 'user', content: 'Say hello' }], stream: true })
        .withResponse();
      const requestId = response.headers.get('x-tollgate-request-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      // The tenant's backend (the only key that may report) claims the running call's id with nothing used.
      const claim = await report(shop.tenantKey, requestId!, 'mia');
      expect(claim.status).toBe(200);
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
      expect(text).toBe('Hello from the fake.');
      await t.settle();
      const items = (await t.request('GET', '/api/subscription/usage/mia/logs', { key: shop.tenantKey })).body.items;
      const gateway = items.filter((i: { id: string; source: string }) => i.id === requestId && i.source === 'gateway');
      expect(gateway).toEqual([
        expect.objectContaining({ provider: 'openai', model: 'openai-test', input_tokens: FAKE_USAGE.openaiChat.prompt_tokens, output_tokens: FAKE_USAGE.openaiChat.completion_tokens, estimated: false }),
      ]);
      expect(Number(gateway[0].cost_exact)).toBeGreaterThan(0);
      // The call counts in the period's usage with what the provider reported.
      const usage = (await t.request('GET', '/api/subscription/usage/mia', { key: shop.tenantKey })).body;
      expect(usage.current_usage.provider_breakdown.openai.tokens).toBeGreaterThanOrEqual(FAKE_USAGE.openaiChat.prompt_tokens + FAKE_USAGE.openaiChat.completion_tokens);
    } finally {
      fake.gapMs = 0;
    }
  });

  it('keeps tenant acme’s report id eu-1 and tenant acme-eu’s report id 1 apart (a dash in a tenant id pre-empts nothing)', async () => {
    const acme = await setupTenant(t, { tenantId: 'acme', users: [] });
    const acmeEu = await setupTenant(t, { tenantId: 'acme-eu', users: [] });
    const first = await report(acme.tenantKey, 'eu-1', 'ann', { input_tokens: 1000 });
    expect(first.body.results).toEqual([expect.objectContaining({ id: 'eu-1', status: 'accepted' })]);
    const second = await report(acmeEu.tenantKey, '1', 'ann', { input_tokens: 2000 });
    expect(second.body.results).toEqual([expect.objectContaining({ id: '1', status: 'accepted' })]);
    await t.settle();
    const logOf = async (key: string) => (await t.request('GET', '/api/subscription/usage/ann/logs', { key })).body.items.map((i: { id: string; input_tokens: number }) => [i.id, i.input_tokens]);
    expect(await logOf(acme.tenantKey)).toEqual([['eu-1', 1000]]);
    expect(await logOf(acmeEu.tenantKey)).toEqual([['1', 2000]]);
    // A repeat is still a duplicate for each.
    expect((await report(acme.tenantKey, 'eu-1', 'ann', { input_tokens: 1000 })).body.results[0].status).toBe('duplicate');
    expect((await report(acmeEu.tenantKey, '1', 'ann', { input_tokens: 2000 })).body.results[0].status).toBe('duplicate');
  });

  it('keeps the alerts of tenant a-b’s user c apart from those of tenant a’s user b-c (they shared a stream and an alert id)', async () => {
    expect((await t.request('PUT', '/api/admin/plans/one-call', { key: TEST_ADMIN_KEY, body: { name: 'One', monthly_price: 1, yearly_price: 10, limits: { total_calls: 1 } } })).status).toBe(200);
    const cases = [
      { tenant: 'a-b', user: 'c' },
      { tenant: 'a', user: 'b-c' },
    ];
    const keyOf: Record<string, string> = {};
    for (const c of cases) {
      keyOf[c.tenant] = (await setupTenant(t, { tenantId: c.tenant })).tenantKey;
      expect((await t.request('POST', '/api/subscription/subscribe', { key: keyOf[c.tenant], body: { user_id: c.user, plan_id: 'one-call', billing_cycle: 'monthly' } })).status).toBe(201);
      expect((await report(keyOf[c.tenant], `call-${c.user}`, c.user, { input_tokens: 10 })).status).toBe(200);
    }
    await t.settle();
    const alerts: Record<string, Array<{ alert_id: string; threshold: number }>> = {};
    for (const c of cases) alerts[c.tenant] = (await t.request('GET', `/api/subscription/alerts/${c.user}`, { key: keyOf[c.tenant] })).body.alerts;
    for (const c of cases) expect(alerts[c.tenant].map((a) => a.threshold).sort((x, y) => x - y)).toEqual([80, 90, 100]);
    const ids = new Set(alerts['a'].map((a) => a.alert_id));
    expect(alerts['a-b'].filter((a) => ids.has(a.alert_id))).toEqual([]);
  });
});
