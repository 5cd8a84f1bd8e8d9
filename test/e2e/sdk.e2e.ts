import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Mistral } from '@mistralai/mistralai';
import { tavily } from '@tavily/core';
import Exa from 'exa-js';
import Firecrawl from '@mendable/firecrawl-js';
import Decimal from 'decimal.js';
import OpenAI from 'openai';
import { ProxyService } from '../../src/gateway';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FAKE_USAGE, FakeKind } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

const KINDS: FakeKind[] = ['openai', 'anthropic', 'gemini', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'];
/** Prices set by the test (USD per 1M tokens), so expected costs are computed here, exactly. */
const PRICES = {
  openai: { input_mtok: '2', output_mtok: '8', cache_read_mtok: '1' },
  anthropic: { input_mtok: '3', output_mtok: '15', cache_read_mtok: '0.3', cache_write_mtok: '3.75' },
  gemini: { input_mtok: '0.5', output_mtok: '2' },
  mistral: { input_mtok: '0.4', output_mtok: '1.2' },
};
const cost = (p: Record<string, string>, u: { input: number; output: number; cacheRead?: number; cacheWrite?: number }) => {
  const cr = u.cacheRead ?? 0;
  const cw = u.cacheWrite ?? 0;
  const inputPrice = new Decimal(p.input_mtok);
  return new Decimal(u.input - (p.cache_read_mtok ? cr : 0) - (p.cache_write_mtok ? cw : 0))
    .times(inputPrice)
    .plus(p.cache_read_mtok ? new Decimal(cr).times(p.cache_read_mtok) : 0)
    .plus(p.cache_write_mtok ? new Decimal(cw).times(p.cache_write_mtok) : 0)
    .plus(new Decimal(u.output).times(p.output_mtok))
    .div(1_000_000);
};

describe('The providers\' SDKs through Tollgate (loopback fakes)', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  const fakes = {} as Record<FakeKind, FakeProvider>;
  let tollgateHits = 0;
  /** Counts the requests an SDK sends to Tollgate (to prove it did not retry a refusal). */
  const countingFetch: typeof fetch = (input, init) => {
    tollgateHits++;
    return fetch(input, init);
  };

  beforeAll(async () => {
    for (const k of KINDS) fakes[k] = await startFake(k);
    const env: Record<string, string> = {};
    for (const k of KINDS) env[`TOLLGATE_UPSTREAM_${k.toUpperCase()}`] = fakes[k].url;
    t = await startTestApp({ env });
    ten = await setupTenant(t, { tenantId: 'acme', providers: KINDS, users: ['alice', 'bob', 'carol'] });
    for (const [provider, prices] of Object.entries(PRICES)) {
      const r = await t.request('PUT', `/api/admin/pricing/${provider}/${provider}-test`, { key: TEST_ADMIN_KEY, body: { prices, effective_from: '2025-01-01T00:00:00Z' } });
      expect(r.status).toBe(200);
    }
    // bob: 3 OpenAI calls a period; carol: 10 calls in all.
    for (const [plan, limits, user] of [['tight', { openai_calls: 3 }, 'bob'], ['ten', { total_calls: 10 }, 'carol']] as const) {
      expect((await t.request('PUT', `/api/admin/plans/${plan}`, { key: TEST_ADMIN_KEY, body: { name: plan, monthly_price: 5, yearly_price: 50, limits } })).status).toBe(200);
      expect((await t.request('POST', '/api/subscription/subscribe', { key: ten.tenantKey, body: { user_id: user, plan_id: plan, billing_cycle: 'monthly' } })).status).toBeLessThan(300);
    }
  });
  afterAll(async () => {
    await t?.close();
    for (const f of Object.values(fakes)) await f.stop();
  });

  /** The user's newest usage log entry, once the gateway recorded it and the projections caught up. */
  async function lastLog(user: string) {
    await t.app.get(ProxyService).idle();
    await t.settle();
    const r = await t.request('GET', `/api/subscription/usage/${user}/logs`, { key: ten.userKeys[user] });
    expect(r.status).toBe(200);
    // The next call happens a second later, so "newest first" puts it on top.
    t.clock.advance(1000);
    return r.body.items[0];
  }
  const openai = (user: string, o: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) => new OpenAI({ apiKey: ten.userKeys[user], baseURL: `${t.url}/proxy/openai/v1`, fetch: countingFetch, ...o });

  describe('OpenAI (openai)', () => {
    const u = FAKE_USAGE.openaiChat;
    const want = { provider: 'openai', model: 'openai-test', input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, cache_read_tokens: u.cached, reasoning_tokens: u.reasoning, status: 200, estimated: false };
    const wantCost = cost(PRICES.openai, { input: u.prompt_tokens, output: u.completion_tokens, cacheRead: u.cached });

    it('records a plain call with its tokens and exact cost, forwarding the tenant\'s stored key', async () => {
      const r = await openai('alice').chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'Say hello' }] });
      expect(r.choices[0].message.content).toBe('Hello from the fake.');
      expect(fakes.openai.last.headers.authorization).toBe('Bearer real-openai-key');
      expect(JSON.stringify(fakes.openai.last.headers)).not.toContain('tg_');
      const log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: false, operation: 'chat' });
      expect(log.cost_exact).toBe(wantCost.toString());
    });

    it('records a streamed call; the usage chunk Tollgate asked for is not shown to the client', async () => {
      const stream = await openai('alice').chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Hello from the fake.');
      expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
      expect(fakes.openai.last.json.stream_options).toEqual({ include_usage: true });
      const log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: true });
      expect(log.cost_exact).toBe(wantCost.toString());
    });

    it('refuses the call over the limit with the SDK\'s RateLimitError and Tollgate\'s message, and the SDK does not retry', async () => {
      const client = openai('bob', { maxRetries: 2 });
      for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'hi' }] });
      const upstreamBefore = fakes.openai.hits;
      const sentBefore = tollgateHits;
      const err = await client.chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.status).toBe(429);
      expect(err.message).toContain('openai_calls');
      expect(err.message).toMatch(/3/);
      expect(err.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(tollgateHits - sentBefore).toBe(1);
      expect(fakes.openai.hits).toBe(upstreamBefore);
      const log = await lastLog('bob');
      expect(log).toMatchObject({ provider: 'openai', model: 'openai-test' });
      expect(JSON.stringify(log)).toMatch(/refus|openai_calls|429/);
    });

    it('passes a provider 500 through as sent and records it with its status', async () => {
      fakes.openai.fail(500);
      const err = await openai('alice', { maxRetries: 0 }).chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err.message).toContain('The fake provider failed (500).');
      expect(await lastLog('alice')).toMatchObject({ provider: 'openai', status: 500 });
    });

    it('passes a cut stream through as cut and records an estimate', async () => {
      fakes.openai.cutNext();
      const stream = await openai('alice', { maxRetries: 0 }).chat.completions.create({ model: 'openai-test', messages: [{ role: 'user', content: 'Say hello' }], stream: true });
      const got: string[] = [];
      const err = await (async () => {
        for await (const c of stream) got.push(c.choices[0]?.delta?.content ?? '');
      })().catch((e) => e);
      // The client sees the cut (fetch's "terminated"), after the events that did arrive.
      expect(String(err?.message ?? err)).toMatch(/terminated|aborted|closed|socket/i);
      expect(got.join('')).toBe('Hello');
      const log = await lastLog('alice');
      expect(log).toMatchObject({ provider: 'openai', status: 200, streamed: true, estimated: true });
      expect(log.input_tokens).toBeGreaterThan(0);
    });

    it('admits exactly the remaining number of 200 concurrent calls at the boundary', async () => {
      fakes.openai.delayMs = 30;
      const before = fakes.openai.hits;
      const body = JSON.stringify({ model: 'openai-test', messages: [{ role: 'user', content: 'hi' }] });
      const statuses = await Promise.all(
        Array.from({ length: 200 }, () => fetch(`${t.url}/proxy/openai/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ten.userKeys.carol}`, 'content-type': 'application/json' }, body }).then(async (r) => (await r.text(), r.status))),
      );
      fakes.openai.delayMs = 0;
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(190);
      expect(fakes.openai.hits - before).toBe(10);
      await t.app.get(ProxyService).idle();
      await t.settle();
      const usage = await t.request('GET', '/api/subscription/usage/carol', { key: ten.userKeys.carol });
      expect(usage.body.current_usage.total_calls).toBe(10);
    });
  });

  describe('Anthropic (@anthropic-ai/sdk)', () => {
    const u = FAKE_USAGE.anthropic;
    const whole = u.input_tokens + u.cache_read + u.cache_write;
    const want = { provider: 'anthropic', model: 'anthropic-test', input_tokens: whole, output_tokens: u.output_tokens, cache_read_tokens: u.cache_read, cache_write_tokens: u.cache_write, status: 200, estimated: false };
    const wantCost = cost(PRICES.anthropic, { input: whole, output: u.output_tokens, cacheRead: u.cache_read, cacheWrite: u.cache_write });
    const client = () => new Anthropic({ apiKey: ten.userKeys.alice, baseURL: `${t.url}/proxy/anthropic`, fetch: countingFetch });

    it('records a plain and a streamed message (cache counts added back into input)', async () => {
      const m = await client().messages.create({ model: 'anthropic-test', max_tokens: 50, messages: [{ role: 'user', content: 'Say hello' }] });
      expect(m.content[0]).toMatchObject({ type: 'text', text: 'Hello from the fake.' });
      expect(fakes.anthropic.last.headers['x-api-key']).toBe('real-anthropic-key');
      let log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: false });
      expect(log.cost_exact).toBe(wantCost.toString());
      const stream = client().messages.stream({ model: 'anthropic-test', max_tokens: 50, messages: [{ role: 'user', content: 'Say hello' }] });
      expect(await stream.finalText()).toBe('Hello from the fake.');
      log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: true });
      expect(log.cost_exact).toBe(wantCost.toString());
    });

    it('refuses over the limit with Anthropic\'s RateLimitError, not retried', async () => {
      const bob = new Anthropic({ apiKey: ten.userKeys.bob, baseURL: `${t.url}/proxy/anthropic`, fetch: countingFetch });
      // bob's plan limits only OpenAI: Anthropic calls pass.
      await bob.messages.create({ model: 'anthropic-test', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
      await t.request('PUT', '/api/admin/plans/tight', { key: TEST_ADMIN_KEY, body: { limits: { openai_calls: 3, anthropic_calls: 1 } } });
      const before = tollgateHits;
      const hits = fakes.anthropic.hits;
      const err = await bob.messages.create({ model: 'anthropic-test', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.RateLimitError);
      expect(err.message).toContain('anthropic_calls');
      expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      expect(tollgateHits - before).toBe(1);
      expect(fakes.anthropic.hits).toBe(hits);
    });
  });

  describe('Gemini (@google/genai)', () => {
    const u = FAKE_USAGE.gemini;
    const want = { provider: 'gemini', model: 'gemini-test', input_tokens: u.prompt, output_tokens: u.candidates + u.thoughts, reasoning_tokens: u.thoughts, status: 200, estimated: false };
    const wantCost = cost(PRICES.gemini, { input: u.prompt, output: u.candidates + u.thoughts });
    const ai = (user: string) => new GoogleGenAI({ apiKey: ten.userKeys[user], httpOptions: { baseUrl: `${t.url}/proxy/gemini` } });

    it('records a plain and a streamed generation (model from the URL)', async () => {
      const r = await ai('alice').models.generateContent({ model: 'gemini-test', contents: 'Say hello' });
      expect(r.text).toBe('Hello from the fake.');
      expect(fakes.gemini.last.headers['x-goog-api-key']).toBe('real-gemini-key');
      let log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: false });
      expect(log.cost_exact).toBe(wantCost.toString());
      let text = '';
      for await (const c of await ai('alice').models.generateContentStream({ model: 'gemini-test', contents: 'Say hello' })) text += c.text ?? '';
      expect(text).toBe('Hello from the fake.');
      log = await lastLog('alice');
      expect(log).toMatchObject({ ...want, streamed: true });
    });

    it('refuses over the limit with a 429 ApiError carrying RESOURCE_EXHAUSTED and Tollgate\'s message', async () => {
      await t.request('PUT', '/api/admin/plans/tight', { key: TEST_ADMIN_KEY, body: { limits: { openai_calls: 3, anthropic_calls: 1, gemini_calls: 0 } } });
      const hits = fakes.gemini.hits;
      const err = await ai('bob').models.generateContent({ model: 'gemini-test', contents: 'hi' }).catch((e) => e);
      expect(err.status).toBe(429);
      expect(err.message).toContain('RESOURCE_EXHAUSTED');
      expect(err.message).toContain('gemini_calls');
      expect(fakes.gemini.hits).toBe(hits);
    });
  });

  describe('Mistral, Tavily, Exa, Firecrawl SDKs and plain HTTP for Serper, Stability, Hugging Face', () => {
    it('Mistral: plain and streamed chat recorded with the last chunk\'s usage', async () => {
      const m = new Mistral({ apiKey: ten.userKeys.alice, serverURL: `${t.url}/proxy/mistral` });
      const r = await m.chat.complete({ model: 'mistral-test', messages: [{ role: 'user', content: 'hi' }] });
      expect(r.choices?.[0]?.message?.content).toBe('Hello from the fake.');
      const want = { provider: 'mistral', model: 'mistral-test', input_tokens: FAKE_USAGE.mistral.prompt_tokens, output_tokens: FAKE_USAGE.mistral.completion_tokens, estimated: false };
      expect(await lastLog('alice')).toMatchObject({ ...want, streamed: false, cost_exact: cost(PRICES.mistral, { input: FAKE_USAGE.mistral.prompt_tokens, output: FAKE_USAGE.mistral.completion_tokens }).toString() });
      let text = '';
      for await (const e of await m.chat.stream({ model: 'mistral-test', messages: [{ role: 'user', content: 'hi' }] })) text += (e.data.choices[0]?.delta?.content as string) ?? '';
      expect(text).toBe('Hello from the fake.');
      expect(await lastLog('alice')).toMatchObject({ ...want, streamed: true });
    });

    it('Tavily: a search recorded with its credits', async () => {
      const r = await tavily({ apiKey: ten.userKeys.alice, apiBaseURL: `${t.url}/proxy/tavily` }).search('what is tollgate');
      expect(r.results[0].title).toBe('Fake result');
      expect(await lastLog('alice')).toMatchObject({ provider: 'tavily', units: FAKE_USAGE.tavilyCredits, status: 200 });
    });

    it('Exa: a search recorded as one unit at the catalog price', async () => {
      const r = await new Exa(ten.userKeys.alice, `${t.url}/proxy/exa`).search('tollgate');
      expect(r.results[0].url).toBe('https://example.com');
      expect(fakes.exa.last.headers['x-api-key']).toBe('real-exa-key');
      expect(await lastLog('alice')).toMatchObject({ provider: 'exa', units: 1, cost_exact: '0.003' });
    });

    it('Firecrawl: a scrape recorded with its creditsUsed', async () => {
      const fc = new Firecrawl({ apiKey: ten.userKeys.alice, apiUrl: `${t.url}/proxy/firecrawl` });
      const doc = await fc.scrape('https://example.com', { formats: ['markdown'] });
      expect(doc.markdown).toBe('# Fake');
      expect(await lastLog('alice')).toMatchObject({ provider: 'firecrawl', units: FAKE_USAGE.firecrawlScrapeCredits, status: 200 });
    });

    it('Serper, Stability and Hugging Face over plain HTTP', async () => {
      const serper = await fetch(`${t.url}/proxy/serper/search`, { method: 'POST', headers: { 'X-API-KEY': ten.userKeys.alice, 'content-type': 'application/json' }, body: JSON.stringify({ q: 'x' }) });
      expect(serper.status).toBe(200);
      expect(fakes.serper.last.headers['x-api-key']).toBe('real-serper-key');
      expect(await lastLog('alice')).toMatchObject({ provider: 'serper', units: 1, cost_exact: '0.001' });

      const form = new FormData();
      form.append('prompt', 'a cat');
      const img = await fetch(`${t.url}/proxy/stability/v2beta/stable-image/generate/core`, { method: 'POST', headers: { authorization: `Bearer ${ten.userKeys.alice}`, accept: 'image/*' }, body: form });
      expect(img.status).toBe(200);
      expect(Buffer.from(await img.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
      expect(String(fakes.stability.last.headers['content-type'])).toContain('multipart/form-data');
      expect(await lastLog('alice')).toMatchObject({ provider: 'stability', model: 'core', units: 1, cost_exact: '0.04' });

      const hf = await fetch(`${t.url}/proxy/huggingface/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'openai/gpt-oss-120b:cerebras', messages: [{ role: 'user', content: 'hi' }] }) });
      expect(hf.status).toBe(200);
      expect(await lastLog('alice')).toMatchObject({ provider: 'huggingface', model: 'openai/gpt-oss-120b', input_tokens: FAKE_USAGE.huggingface.prompt_tokens, output_tokens: FAKE_USAGE.huggingface.completion_tokens });
    });
  });
});
