import * as fs from 'fs';
import * as path from 'path';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';
import { PricingFacade } from '../../src/pricing';

const FIXTURE = path.join(__dirname, '../fixtures/litellm/model_prices_and_context_window.json');
const usage = (u: Partial<Record<string, number>>) => ({ input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0, ...u });

describe('Pricing over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z' });
  });
  afterAll(async () => t.close());

  it('serves the specification table at ?at=2025-01-15, grouped by provider, without a key', async () => {
    const r = await t.request('GET', '/api/subscription/pricing?at=2025-01-15');
    expect(r.status).toBe(200);
    expect(r.body.at).toBe('2025-01-15T00:00:00.000Z');
    const rows = (p: string) => r.body.providers[p].filter((e: any) => !e.fallback).map((e: any) => [e.model, e.input_per_million, e.output_per_million, e.per_unit]);
    expect(rows('gemini')).toEqual([
      ['gemini-2.0-flash-lite', 0.075, 0.3, null],
      ['gemini-2.5-flash', 0.125, 0.375, null],
      ['gemini-2.5-pro', 1.25, 10, null],
      ['gemini-pro', 0.5, 1.5, null],
    ]);
    expect(rows('openai')).toEqual([['gpt-4', 30, 60, null], ['gpt-3.5-turbo', 1.5, 2, null]]);
    expect(rows('anthropic')).toEqual([['claude-3', 8, 24, null]]);
    expect(rows('mistral')).toEqual([['mistral-7b', 0.2, 0.6, null]]);
    expect(rows('tavily')).toEqual([['search', null, null, 0.001]]);
    expect(rows('serper')).toEqual([['search', null, null, 0.001]]);
    expect(rows('exa')).toEqual([['search', null, null, 0.003]]);
    expect(rows('firecrawl')).toEqual([['scrape', null, null, 0.002]]);
    expect(rows('stability')).toEqual([['image', null, null, 0.04]]);
    const fallback = r.body.providers.openai.find((e: any) => e.fallback);
    expect(fallback).toMatchObject({ model: '*', input_per_million: 2.5, output_per_million: 10, source: 'default' });
    expect(r.body.providers.gemini[0]).toMatchObject({ effective_from: '2025-01-01T00:00:00.000Z', source: 'specification', prices: { input_mtok: '0.075', output_mtok: '0.3' } });
  });

  it('serves the current prices (genai-prices data, tiers included) without ?at', async () => {
    const r = await t.request('GET', '/api/subscription/pricing');
    expect(r.status).toBe(200);
    expect(r.body.at).toBe('2025-03-10T12:00:00.000Z');
    const pro = r.body.providers.gemini.find((e: any) => e.model === 'gemini-2.5-pro');
    expect(pro).toMatchObject({ input_per_million: 1.25, output_per_million: 10, cache_read_per_million: 0.125, source: 'genai-prices', effective_from: '2025-02-01T00:00:00.000Z' });
    expect(pro.tiers.input_mtok).toEqual([{ above_input_tokens: 200000, price: 2.5 }]);
    expect(r.body.providers.huggingface.map((e: any) => e.model)).toContain('openai/gpt-oss-120b');
    expect(r.body.providers.tavily.find((e: any) => e.model === 'search').per_unit).toBe(0.001);
  });

  it('lets the operator set a price from a date on: calls before keep the old price', async () => {
    const put = await t.request('PUT', '/api/admin/pricing/openai/gpt-4o', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '5', output_mtok: 20 }, effective_from: '2025-04-01T00:00:00Z' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ provider: 'openai', model: 'gpt-4o', input_per_million: 5, output_per_million: 20, effective_from: '2025-04-01T00:00:00.000Z', source: 'operator', changed: true });
    const facade = t.app.get(PricingFacade);
    const before = facade.quote('openai', 'gpt-4o-2024-08-06', usage({ input_tokens: 1000, output_tokens: 1000 }), new Date('2025-03-31T23:59:59Z'));
    const after = facade.quote('openai', 'gpt-4o-2024-08-06', usage({ input_tokens: 1000, output_tokens: 1000 }), new Date('2025-04-01T00:00:00Z'));
    expect(before.cost.toFixed()).toBe('0.0125');
    expect(after).toMatchObject({ price_version: put.body.price_version, price_source: 'catalog', model_key: 'gpt-4o' });
    expect(after.cost.toFixed()).toBe('0.025');
    const listed = await t.request('GET', '/api/subscription/pricing?at=2025-04-02');
    expect(listed.body.providers.openai.find((e: any) => e.model === 'gpt-4o').price_version).toBe(put.body.price_version);
    await t.settle();
    const { READ_STORE } = await import('../../libs/read-store/port');
    const history = await t.app.get(READ_STORE).collection('api_provider_pricing').find({ provider: 'openai', model: 'gpt-4o' }, { sort: { field: 'effective_from', direction: 'asc' } });
    expect(history.items.map((d: any) => [d.effective_from, d.source, d.components])).toEqual([
      ['2025-02-01T00:00:00.000Z', 'genai-prices', expect.objectContaining({ input_mtok: '2.5', output_mtok: '10' })],
      ['2025-04-01T00:00:00.000Z', 'operator', { input_mtok: '5', output_mtok: '20' }],
    ]);
    const again = await t.request('PUT', '/api/admin/pricing/openai/gpt-4o', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: 5, output_mtok: '20.00' }, effective_from: '2025-04-01T00:00:00Z' } });
    expect(again.body.changed).toBe(false);
  });

  it('sets the fallback price and a price for a model with a slash (URL-encoded)', async () => {
    const fb = await t.request('PUT', '/api/admin/pricing/mistral/*', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: 4, output_mtok: 12 } } });
    expect(fb.status).toBe(200);
    const facade = t.app.get(PricingFacade);
    const q = facade.quote('mistral', 'mistral-from-the-future', usage({ input_tokens: 1_000_000 }), t.clock.now());
    expect(q).toMatchObject({ price_source: 'fallback', model_key: '*' });
    expect(q.cost.toFixed()).toBe('4');
    const hf = await t.request('PUT', '/api/admin/pricing/huggingface/' + encodeURIComponent('openai/gpt-oss-20b'), { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '0.1', output_mtok: '0.5' } } });
    expect(hf.status).toBe(200);
    expect(hf.body.model).toBe('openai/gpt-oss-20b');
    expect(facade.quote('huggingface', 'openai/gpt-oss-20b:fireworks-ai', usage({ output_tokens: 1_000_000 }), t.clock.now()).cost.toFixed()).toBe('0.5');
    const raw = await t.request('PUT', '/api/admin/pricing/huggingface/meta-llama/llama-3.3-70b-instruct', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '0.59', output_mtok: '0.79' } } });
    expect(raw.status).toBe(200);
    expect(raw.body.model).toBe('meta-llama/llama-3.3-70b-instruct');
  });

  it('refuses an unknown provider and a bad price in the one error shape', async () => {
    const unknown = await t.request('PUT', '/api/admin/pricing/acme/foo', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: 1 } } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('pricing_error');
    const bad = await t.request('PUT', '/api/admin/pricing/openai/gpt-4o', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: -3 } } });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: 'pricing_error', details: { component: 'input_mtok' } });
  });

  it('imports the LiteLLM fixture, reports imported and skipped, and a second import changes nothing', async () => {
    const body = fs.readFileSync(FIXTURE, 'utf8');
    const first = await t.request('POST', '/api/admin/pricing/import', { key: TEST_ADMIN_KEY, body });
    expect(first.status).toBe(200);
    expect(first.body.imported_count).toBe(7);
    expect(first.body.skipped.map((s: any) => s.reason)).toEqual(expect.arrayContaining(['unchanged', 'the format description, not a model', 'litellm_provider "bedrock" is not a provider Tollgate serves']));
    const facade = t.app.get(PricingFacade);
    // claude-3-5-sonnet-20240620 from the map: 3 in, 15 out, 3.75 cache write, 0.30 cache read (per 1M).
    const q = facade.quote('anthropic', 'claude-3-5-sonnet-20240620', usage({ input_tokens: 10_000, cache_read_tokens: 3000, cache_write_tokens: 2000, output_tokens: 700 }), t.clock.now());
    expect(q.cost.toFixed()).toBe('0.0339'); // (5000 x 3 + 3000 x 0.3 + 2000 x 3.75 + 700 x 15) / 1M = 0.015 + 0.0009 + 0.0075 + 0.0105
    const second = await t.request('POST', '/api/admin/pricing/import', { key: TEST_ADMIN_KEY, body });
    expect(second.body.imported_count).toBe(0);
    expect(second.body.imported).toEqual([]);
  });

  it('refreshes from genai-prices: nothing changed since the catalog was written', async () => {
    const r = await t.request('POST', '/api/admin/pricing/import?source=genai-prices', { key: TEST_ADMIN_KEY });
    expect(r.status).toBe(200);
    expect(r.body.source).toMatch(/^genai-prices@/);
    expect(r.body.imported_count).toBe(0);
  });
});

describe('The default price catalog across starts', () => {
  it('is written once: two instances starting together and a restart add nothing, and an operator change survives', async () => {
    const { EVENT_STORE } = await import('../../libs/event-store/port');
    const a = await startTestApp();
    const b = await startTestApp({ dataDir: a.dataDir });
    const count = async (t: TestApp) => (await t.app.get(EVENT_STORE).readStream('pricecatalog-seed')).length;
    try {
      const seeded = await count(a);
      expect(seeded).toBeGreaterThan(200);
      expect(await count(b)).toBe(seeded);
      const put = await b.request('PUT', '/api/admin/pricing/gemini/gemini-2.5-flash', { key: TEST_ADMIN_KEY, body: { prices: { input_mtok: '0.2', output_mtok: '2' }, effective_from: '2025-03-01T00:00:00Z' } });
      expect(put.status).toBe(200);
      // The other instance learns the change from the log.
      await a.app.get(EVENT_STORE).headPosition();
      for (let i = 0; i < 50 && a.app.get(PricingFacade).quote('gemini', 'gemini-2.5-flash', usage({ input_tokens: 1_000_000 }), a.clock.now()).cost.toFixed() !== '0.2'; i++) await new Promise((r) => setTimeout(r, 20));
      expect(a.app.get(PricingFacade).quote('gemini', 'gemini-2.5-flash', usage({ input_tokens: 1_000_000 }), a.clock.now()).cost.toFixed()).toBe('0.2');
      await b.close();
      await a.close();
      const c = await startTestApp({ dataDir: a.dataDir });
      try {
        expect(await count(c)).toBe(seeded);
        const q = c.app.get(PricingFacade).quote('gemini', 'models/gemini-2.5-flash', usage({ input_tokens: 1_000_000 }), c.clock.now());
        expect(q.cost.toFixed()).toBe('0.2');
        expect(q.price_version).toBe(put.body.price_version);
      } finally {
        await c.close();
      }
    } catch (err) {
      await Promise.allSettled([a.close(), b.close()]);
      throw err;
    }
  });
});
