import { PriceCatalog } from '../domain/price-catalog';
import type { PriceSetData } from '../domain/price';
import { PricingFacade } from './pricing.facade';
import type { PriceCatalogService } from './price-catalog.service';

const usage = (u: Partial<Record<'input_tokens' | 'output_tokens' | 'units', number>>) => ({ input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0, ...u });
const at = new Date('2025-03-10T12:00:00.000Z');

describe('PricingFacade: units priced by a key of their own, and maximum output', () => {
  let position = 0n;
  const catalog = new PriceCatalog();
  const put = (data: Omit<PriceSetData, 'version' | 'source' | 'source_ref'> & Partial<PriceSetData>) => {
    position++;
    catalog.apply({ id: `e${position}`, position, data: { source: 'default', source_ref: null, version: `${data.provider}/${data.model}#${position}`, ...data } });
  };
  // A PriceSet as stored before max_output_tokens existed: the JSON of an old event, folded as is.
  put(JSON.parse('{"provider":"anthropic","model":"claude-old","components":{"input_mtok":"3","output_mtok":"15","web_searches_kcount":"10"},"effective_from":"2025-02-01T00:00:00.000Z"}'));
  put({ provider: 'anthropic', model: '*', components: { input_mtok: '3', output_mtok: '15' }, effective_from: '2025-01-01T00:00:00.000Z' });
  put({ provider: 'anthropic', model: 'web_search', components: { unit: '0.01' }, effective_from: '2025-05-07T00:00:00.000Z' });
  put({ provider: 'anthropic', model: 'claude-stated', components: { input_mtok: '1', output_mtok: '1' }, effective_from: '2025-01-01T00:00:00.000Z', max_output_tokens: 1234 });
  put({ provider: 'firecrawl', model: 'scrape', components: { unit: '0.002' }, effective_from: '2025-01-01T00:00:00.000Z' });
  const pricing = new PricingFacade({ catalog } as PriceCatalogService);

  it('prices searches by the model\'s own web_searches_kcount where it has one, else by the web_search key (its first price for earlier usage)', () => {
    expect(pricing.quote('anthropic', 'claude-old', usage({ input_tokens: 1000, units: 2 }), at, 'web_search')).toMatchObject({ exact: '0.023', price_source: 'catalog', price_version: 'anthropic/claude-old#1' });
    expect(pricing.quote('anthropic', 'claude-new', usage({ input_tokens: 1000, units: 2 }), at, 'web_search')).toMatchObject({ exact: '0.023', price_source: 'fallback', price_version: 'anthropic/*#2+anthropic/web_search#3' });
  });

  it('a settlement\'s negative units cost a negative amount, exactly', () => {
    expect(pricing.quote('firecrawl', 'scrape', usage({ units: -3 }), at, 'scrape').exact).toBe('-0.006');
  });

  it('units of a key without a price cannot be priced: admission is told which key needs one', () => {
    expect(pricing.unpricedUnits('firecrawl', 'extract', 1, at, 'extract')).toEqual({ price_key: 'extract' });
    expect(pricing.unpricedUnits('firecrawl', 'scrape', 5, at, 'scrape')).toBeNull();
    expect(pricing.unpricedUnits('anthropic', 'claude-new', 1, at)).toEqual({ price_key: 'claude-new' });
    expect(() => pricing.quote('firecrawl', 'extract', usage({ units: 1 }), at, 'extract')).toThrow(/PUT \/api\/admin\/pricing\/firecrawl\/extract/);
  });

  it('the maximum output is the price\'s own max_output_tokens, else the built-in table, else 16,384', () => {
    expect(pricing.maxOutputTokens('anthropic', 'claude-stated', at)).toBe(1234);
    expect(pricing.maxOutputTokens('anthropic', 'claude-3-5-haiku-20241022', at)).toBe(8192);
    expect(pricing.maxOutputTokens('anthropic', 'claude-old', at)).toBe(16_384);
  });
});
