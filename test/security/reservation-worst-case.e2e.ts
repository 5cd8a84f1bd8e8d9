import Decimal from 'decimal.js';
import OpenAI from 'openai';
import { countTokens } from '../../src/gateway/tokens';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

/**
 * Reserve, then settle: admission holds a call's worst case (its prompt plus its maximum output, priced at the call's
 * prices) until the call is recorded. The fake provider honours each request's max_tokens and generates all of it,
 * which is the worst case a limit must survive.
 */
describe('Reservation of a call\'s worst case (issue 22, item 6)', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  let openaiFake: FakeProvider;
  // gpt-4o-mini in the bundled @pydantic/genai-prices data: $0.15 / $0.60 per 1M tokens.
  const IN = new Decimal('0.15').div(1e6);
  const OUT = new Decimal('0.6').div(1e6);
  const PROMPT = 'hi';
  const REPORTED_PROMPT = 1;

  beforeAll(async () => {
    openaiFake = await startFake('openai');
    // Reports a 1-token prompt (no more than Tollgate counts for "hi") and every output token the request allows.
    openaiFake.chatUsage = (b) => ({ prompt_tokens: REPORTED_PROMPT, completion_tokens: b.max_completion_tokens ?? b.max_tokens ?? 50, cached: 0, reasoning: 0 });
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: openaiFake.url } });
    ten = await setupTenant(t, { tenantId: 'resv', providers: ['openai'], users: ['cost', 'boundary', 'tokens', 'stated'] });
    const plans: [string, Record<string, number>, string][] = [
      ['five-cents', { monthly_cost: 0.05 }, 'cost'],
      ['five-cents-b', { monthly_cost: 0.05 }, 'boundary'],
      ['fifty-k-tokens', { total_tokens: 50_000 }, 'tokens'],
      ['one-k-tokens', { total_tokens: 1_000 }, 'stated'],
    ];
    for (const [plan, limits, user] of plans) {
      expect((await t.request('PUT', `/api/admin/plans/${plan}`, { key: TEST_ADMIN_KEY, body: { name: plan, monthly_price: 1, yearly_price: 10, limits } })).status).toBe(200);
      expect((await t.request('POST', '/api/subscription/subscribe', { key: ten.tenantKey, body: { user_id: user, plan_id: plan, billing_cycle: 'monthly' } })).status).toBeLessThan(300);
    }
    expect(countTokens(PROMPT)).toBeGreaterThanOrEqual(REPORTED_PROMPT);
  });
  afterAll(async () => {
    await t?.close();
    await openaiFake?.stop();
  });

  const client = (user: string) => new OpenAI({ apiKey: ten.userKeys[user], baseURL: `${t.url}/proxy/openai/v1`, maxRetries: 0 });
  const call = (user: string, maxTokens: number) =>
    client(user)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], max_tokens: maxTokens })
      .then(() => 'ok' as const, (e) => (e instanceof OpenAI.RateLimitError ? ('refused' as const) : Promise.reject(e)));

  async function logs(user: string) {
    await t.settle();
    const r = await t.request('GET', `/api/subscription/usage/${user}/logs`, { key: ten.userKeys[user] });
    expect(r.status).toBe(200);
    return (r.body.items as any[]).filter((i) => i.status === 200);
  }

  it('20 concurrent calls of max_tokens 20000 against monthly_cost $0.05 admit only those whose worst case fits, and the recorded cost stays under the limit', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => call('cost', 20_000)));
    const worst = IN.times(countTokens(PROMPT)).plus(OUT.times(20_000));
    const fits = new Decimal('0.05').div(worst).floor().toNumber();
    expect(fits).toBe(4);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(fits);
    expect(outcomes.filter((o) => o === 'refused')).toHaveLength(20 - fits);
    const recorded = await logs('cost');
    expect(recorded).toHaveLength(fits);
    const each = IN.times(REPORTED_PROMPT).plus(OUT.times(20_000));
    for (const r of recorded) {
      expect(r).toMatchObject({ model: 'gpt-4o-mini', input_tokens: REPORTED_PROMPT, output_tokens: 20_000, price_source: 'catalog', estimated: false });
      expect(r.cost_exact).toBe(each.toString());
    }
    const total = recorded.reduce((s, r) => s.plus(r.cost_exact), new Decimal(0));
    expect(total.toString()).toBe('0.0480006');
    expect(total.lte('0.05')).toBe(true);
  });

  it('200 concurrent calls at the boundary of a cost limit admit exactly the headroom (max_tokens 1000)', async () => {
    // Spend part of the limit first, so the burst meets a boundary that is not a round number of calls.
    expect(await call('boundary', 7_000)).toBe('ok');
    await t.settle();
    const spent = IN.times(REPORTED_PROMPT).plus(OUT.times(7_000));
    const worst = IN.times(countTokens(PROMPT)).plus(OUT.times(1_000));
    const headroom = new Decimal('0.05').minus(spent).div(worst).floor().toNumber();
    expect(headroom).toBe(76);
    const outcomes = await Promise.all(Array.from({ length: 200 }, () => call('boundary', 1_000)));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(headroom);
    await t.settle();
    const usage = await t.request('GET', '/api/subscription/usage/boundary', { key: ten.userKeys.boundary });
    expect(usage.status).toBe(200);
    expect(usage.body.current_usage.total_calls).toBe(headroom + 1);
    const total = new Decimal(usage.body.current_usage.total_cost_exact);
    expect(total.toString()).toBe(spent.plus(IN.times(REPORTED_PROMPT).plus(OUT.times(1_000)).times(headroom)).toString());
    expect(total.lte('0.05')).toBe(true);
  });

  it('a token limit reserves the maximum output too: 5 concurrent calls of max_tokens 20000 against total_tokens 50000 admit 2', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => call('tokens', 20_000)));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(2);
    const recorded = await logs('tokens');
    expect(recorded.reduce((s, r) => s + r.input_tokens + r.output_tokens, 0)).toBe(2 * (REPORTED_PROMPT + 20_000));
  });

  it('a call that states no maximum reserves the model\'s maximum output (gpt-4o-mini: 16,384 tokens)', async () => {
    const r = await t.request('POST', '/api/usage/check', {
      key: ten.tenantKey,
      body: { user_id: 'tokens', provider: 'openai', model: 'gpt-4o-mini', input_tokens: 10 },
    });
    // A check without max_output_tokens plans input only; with it, the worst case: 50,000 - 40,002 used leaves 9,998.
    expect(r.status).toBe(200);
    const worst = await t.request('POST', '/api/usage/check', { key: ten.tenantKey, body: { user_id: 'tokens', provider: 'openai', model: 'gpt-4o-mini', input_tokens: 10, max_output_tokens: 10_000 } });
    expect(worst.status).toBe(429);
    expect(worst.body.error).toMatchObject({ code: 'usage_limit_exceeded', details: { limit: 'total_tokens', requested: 10_010 } });
    const err = await client('tokens')
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.message).toContain('total_tokens');
    expect(err.message).toContain(`would add ${(countTokens(PROMPT) + 16_384).toLocaleString('en-US')}`);
  });

  it('the operator\'s max_output_tokens for a model is what a call without a maximum reserves', async () => {
    const unstated = () => client('stated').chat.completions.create({ model: 'tiny-model', messages: [{ role: 'user', content: PROMPT }] });
    // No maximum known for tiny-model: the stated default of 16,384 does not fit 1,000 tokens.
    const err = await unstated().catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.message).toContain(`would add ${(countTokens(PROMPT) + 16_384).toLocaleString('en-US')}`);
    const put = await t.request('PUT', '/api/admin/pricing/openai/tiny-model', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '1', output_mtok: '1' }, max_output_tokens: 100, effective_from: '2025-01-01T00:00:00Z' } });
    expect(put.status).toBe(200);
    await unstated();
    const [log] = await logs('stated');
    expect(log).toMatchObject({ model: 'tiny-model', input_tokens: REPORTED_PROMPT, output_tokens: 50, price_source: 'catalog', cost_exact: '0.000051' });
  });
});
