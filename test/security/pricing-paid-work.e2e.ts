import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI, { toFile } from 'openai';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FAKE_USAGE } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';

/**
 * Paid work is priced (issue 22, item 4). Each attack made the provider bill the tenant while Tollgate recorded $0;
 * each test asserts the exact recorded units, tokens, cost and price source of the call.
 */
describe('Paid work is priced: images and server tools', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  const fakes: Record<'openai' | 'anthropic' | 'gemini', FakeProvider> = {} as never;

  beforeAll(async () => {
    for (const k of ['openai', 'anthropic', 'gemini'] as const) fakes[k] = await startFake(k);
    t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: fakes.openai.url, TOLLGATE_UPSTREAM_ANTHROPIC: fakes.anthropic.url, TOLLGATE_UPSTREAM_GEMINI: fakes.gemini.url } });
    ten = await setupTenant(t, { tenantId: 'paid', providers: ['openai', 'anthropic', 'gemini'], users: ['mallory'] });
    const r = await t.request('PUT', '/api/admin/pricing/gemini/gemini-test', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '0.5', output_mtok: '2' }, effective_from: '2025-01-01T00:00:00Z' } });
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    for (const f of Object.values(fakes)) await f?.stop();
  });

  const openai = () => new OpenAI({ apiKey: ten.userKeys.mallory, baseURL: `${t.url}/proxy/openai/v1`, maxRetries: 0 });
  /** The user's newest usage record. */
  async function lastLog() {
    await t.settle();
    const r = await t.request('GET', '/api/subscription/usage/mallory/logs', { key: ten.userKeys.mallory });
    expect(r.status).toBe(200);
    t.clock.advance(1000);
    return r.body.items[0];
  }

  describe('OpenAI images', () => {
    it('two DALL-E 3 HD 1792x1024 images are recorded as 2 units at $0.12 each, not $0 at the fallback price', async () => {
      const r = await openai().images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', n: 2, size: '1792x1024', quality: 'hd' });
      expect(r.data).toHaveLength(2);
      expect(await lastLog()).toMatchObject({ provider: 'openai', model: 'dall-e-3', operation: 'image', units: 2, input_tokens: 0, output_tokens: 0, cost_exact: '0.24', price_source: 'catalog', status: 200 });
    });

    it('a DALL-E 3 image with the defaults (standard, 1024x1024) costs $0.04', async () => {
      await openai().images.generate({ model: 'dall-e-3', prompt: 'a lighthouse' });
      expect(await lastLog()).toMatchObject({ model: 'dall-e-3', units: 1, cost_exact: '0.04', price_source: 'catalog' });
    });

    it('an image edit sent as multipart (dall-e-2, two 512x512 images) is priced from its form fields: $0.036', async () => {
      const image = await toFile(Buffer.from([0x89, 0x50, 0x4e, 0x47]), 'in.png', { type: 'image/png' });
      const r = await openai().images.edit({ model: 'dall-e-2', image, prompt: 'add a boat', n: 2, size: '512x512' });
      expect(r.data).toHaveLength(2);
      expect(await lastLog()).toMatchObject({ model: 'dall-e-2', operation: 'image', units: 2, cost_exact: '0.036', price_source: 'catalog' });
    });

    it('gpt-image-1 is priced by its reported tokens at the genai-prices rates ($5 input, $40 output per 1M)', async () => {
      await openai().images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', quality: 'high', size: '1024x1024' });
      const u = FAKE_USAGE.gptImage;
      // 50 x $5/1M + 4160 x $40/1M
      expect(await lastLog()).toMatchObject({ model: 'gpt-image-1', units: 0, input_tokens: u.input_tokens, output_tokens: u.output_tokens, cost_exact: '0.16665', price_source: 'catalog' });
    });

    it('an image Tollgate has no price for (dall-e-3 at 512x512) is refused before it reaches OpenAI, until the operator sets its price', async () => {
      const hits = fakes.openai.hits;
      const err = await openai().images.generate({ model: 'dall-e-3', prompt: 'x', size: '512x512' as never }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(err.status).toBe(403);
      expect(err.message).toContain('"image/dall-e-3/standard/512x512"');
      expect(err.message).toContain('PUT /api/admin/pricing/openai/image/dall-e-3/standard/512x512');
      expect(fakes.openai.hits).toBe(hits);
      const set = await t.request('PUT', '/api/admin/pricing/openai/image/dall-e-3/standard/512x512', { key: TEST_ADMIN_KEY, body: { prices: { unit: '0.03' } } });
      expect(set.status).toBe(200);
      await openai().images.generate({ model: 'dall-e-3', prompt: 'x', size: '512x512' as never });
      expect(fakes.openai.hits).toBe(hits + 1);
      expect(await lastLog()).toMatchObject({ model: 'dall-e-3', units: 1, cost_exact: '0.03', price_source: 'catalog' });
    });
  });

  describe('Anthropic server tools', () => {
    const anthropic = () => new Anthropic({ apiKey: ten.userKeys.mallory, baseURL: `${t.url}/proxy/anthropic`, maxRetries: 0 });
    const request = { model: 'claude-sonnet-4-0', max_tokens: 100, messages: [{ role: 'user' as const, content: 'news today?' }], tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 5 }] };
    // Tokens at claude-sonnet-4-0's genai-prices rates: 100 x $3 + 30 x $0.3 (cache read) + 10 x $3.75 (cache write) + 40 x $15, per 1M = $0.0009465;
    // two searches at its web_searches_kcount ($10 per 1,000) = $0.02.
    const want = { provider: 'anthropic', model: 'claude-sonnet-4-0', input_tokens: 140, output_tokens: 40, units: FAKE_USAGE.webSearches, cost_exact: '0.0209465', price_source: 'catalog' };

    it('web_search requests (usage.server_tool_use.web_search_requests) are billed at $10 per 1,000 beside the tokens', async () => {
      const m = await anthropic().messages.create(request);
      expect(m.usage.server_tool_use?.web_search_requests).toBe(2);
      expect(await lastLog()).toMatchObject({ ...want, streamed: false });
    });

    it('a streamed call counts the searches of its last message_delta', async () => {
      const stream = anthropic().messages.stream(request);
      await stream.finalMessage();
      expect(await lastLog()).toMatchObject({ ...want, streamed: true });
    });
  });

  describe('OpenAI Responses built-in web search', () => {
    it('each web_search_call item of output[] is billed at the model\'s web search price (gpt-4o-mini: $10 per 1,000)', async () => {
      const r = await openai().responses.create({ model: 'gpt-4o-mini', input: 'news today?', tools: [{ type: 'web_search' }] });
      expect(r.output.filter((o) => o.type === 'web_search_call')).toHaveLength(2);
      // 80 x $0.15 + 30 x $0.6 per 1M = $0.00003, plus 2 x $0.01.
      expect(await lastLog()).toMatchObject({ model: 'gpt-4o-mini', operation: 'responses', input_tokens: 80, output_tokens: 30, units: 2, cost_exact: '0.02003', price_source: 'catalog' });
    });

    it('a streamed response counts the web_search_call items of response.completed', async () => {
      const stream = await openai().responses.create({ model: 'gpt-4o-mini', input: 'news today?', tools: [{ type: 'web_search' }], stream: true });
      for await (const _ of stream) void _;
      expect(await lastLog()).toMatchObject({ model: 'gpt-4o-mini', units: 2, cost_exact: '0.02003', streamed: true });
    });
  });

  describe('OpenAI chat completions with a search model', () => {
    // 100 x $0.15 + 20 x $0.075 (cached) + 45 x $0.6 per 1M = $0.0000435 (gpt-4o-mini's genai-prices entry, which
    // matches gpt-4o-mini-search-preview), plus its one search at its web_searches_kcount ($10 per 1,000).
    const want = { model: 'gpt-4o-mini-search-preview', operation: 'chat', input_tokens: 120, output_tokens: 45, units: 1, cost_exact: '0.0100435', price_source: 'catalog' };

    it('each call of a search model is billed its search beside the tokens, though the answer does not count it', async () => {
      await openai().chat.completions.create({ model: 'gpt-4o-mini-search-preview', messages: [{ role: 'user', content: 'news today?' }], web_search_options: {} });
      expect(await lastLog()).toMatchObject({ ...want, streamed: false });
    });

    it('a streamed call of a search model is billed its search too', async () => {
      const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini-search-preview', messages: [{ role: 'user', content: 'news today?' }], stream: true });
      for await (const _ of stream) void _;
      expect(await lastLog()).toMatchObject({ ...want, streamed: true });
    });
  });

  describe('Gemini grounding with Google Search', () => {
    const ai = () => new GoogleGenAI({ apiKey: ten.userKeys.mallory, httpOptions: { baseUrl: `${t.url}/proxy/gemini` } });

    it('a grounded prompt (groundingMetadata in the response) is billed $35 per 1,000 beside its tokens', async () => {
      const r = await ai().models.generateContent({ model: 'gemini-test', contents: 'news today?', config: { tools: [{ googleSearch: {} }] } });
      expect(r.candidates?.[0].groundingMetadata?.webSearchQueries).toEqual(['fake query']);
      // 70 x $0.5 + 30 x $2 per 1M = $0.000095, plus $0.035.
      expect(await lastLog()).toMatchObject({ provider: 'gemini', model: 'gemini-test', input_tokens: 70, output_tokens: 30, units: 1, cost_exact: '0.035095', price_source: 'catalog' });
    });

    it('a streamed grounded prompt is billed once', async () => {
      const stream = await ai().models.generateContentStream({ model: 'gemini-test', contents: 'news today?', config: { tools: [{ googleSearch: {} }] } });
      for await (const _ of stream) void _;
      expect(await lastLog()).toMatchObject({ model: 'gemini-test', units: 1, cost_exact: '0.035095', streamed: true });
    });

    it('an ungrounded prompt costs its tokens only', async () => {
      await ai().models.generateContent({ model: 'gemini-test', contents: 'hello' });
      expect(await lastLog()).toMatchObject({ model: 'gemini-test', units: 0, cost_exact: '0.000095' });
    });
  });
});
