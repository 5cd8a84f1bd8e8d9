import { Money, sum } from '../../../libs/money';
import type { UsageVector } from '../../metering';
import { costOf } from './cost';
import { PriceCatalog } from './price-catalog';
import { defaultCatalogEvents } from './import-plan';
import { PriceSetData } from './price';
import { genaiCandidates, uuidFrom } from '../application/catalog-store';

/** Given the default catalog (and more PriceSet events), when a call is priced at `at`, then its cost. */
function given(...extra: PriceSetData[]) {
  const catalog = new PriceCatalog();
  const events = [...defaultCatalogEvents(genaiCandidates(), uuidFrom), ...extra.map((data, i) => ({ id: `extra-${i}`, data }))];
  events.forEach((e, i) => catalog.apply({ id: e.id, position: BigInt(i), data: e.data }));
  return {
    whenPriced(provider: string, model: string, usage: Partial<UsageVector>, at: string) {
      const r = catalog.resolve(provider, model, new Date(at));
      if (!r) throw new Error(`no price for ${provider}`);
      const u: UsageVector = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0, ...usage };
      return { cost: costOf(r.entry.components, u).toFixed(), model_key: r.model_key, price_source: r.price_source, version: r.entry.version, via: r.via };
    },
  };
}

const JAN = '2025-01-15T12:00:00Z';
const MAR = '2025-03-10T12:00:00Z';

describe('The specification price table (in effect from 2025-01-01): worked examples', () => {
  const c = given();
  // 2,000 input and 1,000 output tokens: input x rate / 1M + output x rate / 1M.
  it.each([
    ['gemini', 'gemini-2.0-flash-lite', '0.00045'], // 2000 x 0.075 + 1000 x 0.30
    ['gemini', 'gemini-2.5-flash', '0.000625'], // 2000 x 0.125 + 1000 x 0.375
    ['gemini', 'gemini-2.5-pro', '0.0125'], // 2000 x 1.25 + 1000 x 10
    ['gemini', 'gemini-pro', '0.0025'], // 2000 x 0.50 + 1000 x 1.50
    ['openai', 'gpt-4', '0.12'], // 2000 x 30 + 1000 x 60
    ['openai', 'gpt-3.5-turbo', '0.005'], // 2000 x 1.50 + 1000 x 2.00
    ['anthropic', 'claude-3', '0.04'], // 2000 x 8 + 1000 x 24
    ['mistral', 'mistral-7b', '0.001'], // 2000 x 0.20 + 1000 x 0.60
  ])('%s %s: 2,000 in + 1,000 out costs %s', (provider, model, expected) => {
    const r = c.whenPriced(provider, model, { input_tokens: 2000, output_tokens: 1000 }, JAN);
    expect(r).toMatchObject({ cost: expected, model_key: model, price_source: 'catalog' });
    expect(r.version).toMatch(new RegExp(`^${provider}/${model.replace(/\./g, '\\.')}@2025-01-01T00:00:00.000Z#[0-9a-f]{8}$`));
  });

  it.each([
    ['tavily', 'search', 3, '0.003'],
    ['serper', 'search', 3, '0.003'],
    ['exa', 'search', 3, '0.009'],
    ['firecrawl', 'scrape', 5, '0.01'],
    ['stability', 'image', 2, '0.08'],
  ])('%s %s: %d units cost %s', (provider, unit, units, expected) => {
    expect(c.whenPriced(provider, unit, { units }, JAN)).toMatchObject({ cost: expected, model_key: unit, price_source: 'catalog' });
    // The unit price holds whatever the caller names the operation (the provider bills per unit), and after January.
    expect(c.whenPriced(provider, 'sd3.5-large', { units }, MAR)).toMatchObject({ cost: expected, model_key: unit, price_source: 'catalog' });
  });
});

describe('Effective dates', () => {
  it('prices a call at the price in effect when it happened: before and after a PriceSet', () => {
    const c = given({
      provider: 'openai', model: 'gpt-4o', components: { input_mtok: '5', output_mtok: '20' },
      effective_from: '2025-06-01T00:00:00.000Z', source: 'operator', source_ref: null, version: 'openai/gpt-4o@2025-06-01T00:00:00.000Z#op',
    });
    const usage = { input_tokens: 1000, output_tokens: 1000 };
    expect(c.whenPriced('openai', 'gpt-4o', usage, '2025-05-31T23:59:59.999Z')).toMatchObject({ cost: '0.0125' }); // genai-prices: 2.5 + 10
    expect(c.whenPriced('openai', 'gpt-4o', usage, '2025-06-01T00:00:00.000Z')).toMatchObject({ cost: '0.025', version: 'openai/gpt-4o@2025-06-01T00:00:00.000Z#op' });
  });

  it('prices usage dated before the catalog began at its first version (the specification table), never refusing it', () => {
    const c = given();
    const usage = { input_tokens: 1_000_000, output_tokens: 1_000_000 };
    expect(c.whenPriced('gemini', 'gemini-pro', usage, '2024-11-20T08:00:00Z')).toMatchObject({ cost: '2', price_source: 'catalog' }); // 0.50 + 1.50
    expect(c.whenPriced('gemini', 'gemini-pro', usage, '2024-11-20T08:00:00Z')).toEqual(c.whenPriced('gemini', 'gemini-pro', usage, JAN));
  });

  it('answers the same price from its resolution cache on both sides of a price change', () => {
    const c = given({
      provider: 'openai', model: 'gpt-4o', components: { input_mtok: '5', output_mtok: '20' },
      effective_from: '2025-06-01T00:00:00.000Z', source: 'operator', source_ref: null, version: 'openai/gpt-4o@2025-06-01T00:00:00.000Z#op',
    });
    const usage = { input_tokens: 1000, output_tokens: 1000 };
    for (let i = 0; i < 3; i++) {
      expect(c.whenPriced('openai', 'gpt-4o', usage, '2025-05-31T23:59:59.999Z').cost).toBe('0.0125');
      expect(c.whenPriced('openai', 'gpt-4o', usage, '2025-06-01T00:00:00.000Z').cost).toBe('0.025');
    }
  });

  it('moves from the specification table to genai-prices data on 2025-02-01', () => {
    const c = given();
    const usage = { input_tokens: 1_000_000, output_tokens: 1_000_000 };
    expect(c.whenPriced('gemini', 'gemini-2.5-flash', usage, '2025-01-31T23:59:59Z').cost).toBe('0.5'); // 0.125 + 0.375
    expect(c.whenPriced('gemini', 'gemini-2.5-flash', usage, '2025-02-01T00:00:00Z').cost).toBe('2.8'); // 0.30 + 2.50
  });

  it('applies a dated genai-prices change on its start date (o3 from 2025-06-10)', () => {
    const c = given();
    const usage = { input_tokens: 1_000_000, output_tokens: 1_000_000 };
    expect(c.whenPriced('openai', 'o3', usage, '2025-06-09T23:59:59Z').cost).toBe('50'); // 10 + 40
    expect(c.whenPriced('openai', 'o3', usage, '2025-06-10T00:00:00Z').cost).toBe('10'); // 2 + 8
  });
});

describe('Tiers, cache and reasoning', () => {
  const c = given();
  it('gemini-2.5-pro: a prompt above 200k tokens is priced at the higher tier, every token of it', () => {
    // 200,000 prompt tokens: base rates 1.25 in, 10 out.
    expect(c.whenPriced('gemini', 'gemini-2.5-pro', { input_tokens: 200_000, output_tokens: 1000 }, MAR).cost).toBe('0.26'); // 0.25 + 0.01
    // 200,001: the tier (2.5 in, 15 out) applies to the whole call.
    expect(c.whenPriced('gemini', 'gemini-2.5-pro', { input_tokens: 200_001, output_tokens: 1000 }, MAR).cost).toBe('0.5150025'); // 0.5000025 + 0.015
  });

  it('cache reads and writes are billed at their own rates and taken out of the input tokens', () => {
    // claude-3-opus-latest: 15 in, 75 out, cache write 18.75, cache read 1.5 (per 1M).
    const r = c.whenPriced('anthropic', 'claude-3-opus-20240229', { input_tokens: 10_000, cache_read_tokens: 6000, cache_write_tokens: 2000, output_tokens: 1000 }, MAR);
    // (10000-6000-2000) x 15 + 6000 x 1.5 + 2000 x 18.75 + 1000 x 75, per 1M = 0.03 + 0.009 + 0.0375 + 0.075
    expect(r).toMatchObject({ cost: '0.1515', model_key: 'claude-3-opus-latest', via: 'match' });
  });

  it('cache reads without a cache rate are billed as input', () => {
    // gpt-4 (genai-prices): 30 in, 60 out, no cache rate.
    expect(c.whenPriced('openai', 'gpt-4', { input_tokens: 1000, cache_read_tokens: 1000 }, MAR).cost).toBe('0.03');
  });

  it('reasoning tokens are output unless priced on their own', () => {
    const usage = { input_tokens: 0, output_tokens: 1000, reasoning_tokens: 800 };
    expect(c.whenPriced('openai', 'o3-mini', usage, MAR).cost).toBe('0.0044'); // all 1000 at 4.40
    const priced = given({
      provider: 'gemini', model: 'thinker', components: { output_mtok: '0.6', output_reasoning_mtok: '3.5' },
      effective_from: '2025-01-01T00:00:00.000Z', source: 'operator', source_ref: null, version: 'v',
    });
    expect(priced.whenPriced('gemini', 'thinker', usage, MAR).cost).toBe('0.00292'); // 200 x 0.6 + 800 x 3.5
  });
});

describe('Model names as users send them', () => {
  const c = given();
  it.each([
    // A key's matching rule (from genai-prices) finds it at any time the key has a price.
    ['openai', 'gpt-4-0613', JAN, 'gpt-4', 'match'],
    ['openai', 'gpt-35-turbo', JAN, 'gpt-3.5-turbo', 'match'],
    ['openai', 'gpt-35-turbo-0125', MAR, 'gpt-3.5-turbo', 'prefix'],
    ['openai', 'gpt-4-0613', MAR, 'gpt-4', 'match'],
    ['anthropic', 'claude-3-opus-20240229', JAN, 'claude-3', 'prefix'],
    ['anthropic', 'claude-3-opus-20240229', MAR, 'claude-3-opus-latest', 'match'],
    ['gemini', 'models/gemini-2.5-flash', MAR, 'gemini-2.5-flash', 'exact'],
    ['gemini', 'gemini-2.5-flash-001', JAN, 'gemini-2.5-flash', 'prefix'],
    ['gemini', 'gemini-2.5-flash-001', MAR, 'gemini-2.5-flash', 'prefix'],
    ['gemini', 'GEMINI-2.0-FLASH-LITE-001', MAR, 'gemini-2.0-flash-lite', 'match'],
    ['gemini', 'gemini-1.0-pro', JAN, 'gemini-pro', 'match'],
    ['gemini', 'gemini-flash-latest', MAR, 'gemini-2.5-flash', 'alias'],
    ['huggingface', 'openai/gpt-oss-120b:cerebras', MAR, 'openai/gpt-oss-120b', 'exact'],
    ['huggingface', 'openai/gpt-oss-120b:groq', MAR, 'openai/gpt-oss-120b', 'exact'],
    ['mistral', 'mistral-large-2411', MAR, 'mistral-large', 'match'],
    ['mistral', 'open-mistral-7b-v0.3', JAN, 'mistral-7b', 'prefix'],
  ])('%s %s at %s resolves to %s (%s)', (provider, model, at, key, via) => {
    expect(c.whenPriced(provider, model, { input_tokens: 1 }, at)).toMatchObject({ model_key: key, via, price_source: 'catalog' });
  });

  it('an unknown model is priced by the provider fallback price, and says so: never free', () => {
    const r = c.whenPriced('openai', 'gpt-99-ultra', { input_tokens: 1_000_000, output_tokens: 1_000_000 }, MAR);
    expect(r).toMatchObject({ model_key: '*', price_source: 'fallback', cost: '12.5' }); // 2.5 + 10
    expect(c.whenPriced('huggingface', 'some/unknown-model', { input_tokens: 1000 }, MAR)).toMatchObject({ price_source: 'fallback', cost: '0.00015' });
  });
});

describe('Exactness', () => {
  it('summing 1,000,000 calls of $0.0000001 gives exactly $0.1', () => {
    const c = given({
      provider: 'serper', model: 'micro', components: { unit: '0.0000001' },
      effective_from: '2025-01-01T00:00:00.000Z', source: 'operator', source_ref: null, version: 'v',
    });
    const costs: Money[] = [];
    for (let i = 0; i < 1_000_000; i++) costs.push(new Money(c.whenPriced('serper', 'micro', { units: 1 }, MAR).cost));
    expect(sum(costs).toFixed()).toBe('0.1');
    expect(sum(costs).eq('0.1')).toBe(true);
  });
});
