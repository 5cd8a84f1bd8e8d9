import * as fs from 'fs';
import * as path from 'path';
import { Money } from '../../../libs/money';
import { costOf } from './cost';
import { PriceCatalog } from './price-catalog';
import { defaultCatalogEvents, NewPriceSet, planImport } from './import-plan';
import { genaiCandidates, uuidFrom } from '../application/catalog-store';
import { parseLitellmMap } from '../infrastructure/litellm-map.parser';
import { genaiPriceRows, installedGenaiProviders } from '../infrastructure/genai-prices.source';

const FIXTURE = path.join(__dirname, '../../../test/fixtures/litellm/model_prices_and_context_window.json');
const NOW = new Date('2025-03-10T12:00:00.000Z');

function givenDefaultCatalog(): { catalog: PriceCatalog; append: (events: NewPriceSet[]) => void } {
  const catalog = new PriceCatalog();
  let position = 0n;
  const append = (events: NewPriceSet[]) => events.forEach((e) => catalog.apply({ id: e.id, position: position++, data: e.data }));
  append(defaultCatalogEvents(genaiCandidates(), uuidFrom));
  return { catalog, append };
}

describe('Importing a LiteLLM price map', () => {
  const map = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));

  it('imports what Tollgate can bill, reports what it skipped and why', () => {
    const { catalog } = givenDefaultCatalog();
    const { candidates, skipped } = parseLitellmMap(map);
    const { events, report } = planImport(catalog, candidates, NOW, uuidFrom);
    expect(report.imported.map((i) => `${i.provider}/${i.model}:${i.reason}`).sort()).toEqual([
      'anthropic/claude-3-5-sonnet-20240620:new',
      'gemini/gemini-2.5-flash-preview-04-17:new',
      'mistral/mistral-large-latest:new',
      'openai/gpt-4o-mini-2024-07-18:new',
      'openai/gpt-4o:changed', // genai-prices also prices web searches; LiteLLM's entry does not
      'stability/sd3.5-large:new',
      'tavily/search:changed', // 0.001 -> 0.008 a search
    ]);
    expect(events.every((e) => e.data.effective_from === NOW.toISOString() && e.data.source === 'litellm')).toBe(true);
    expect([...skipped, ...report.skipped].map((s) => `${s.entry ?? `${s.provider}/${s.model}`}: ${s.reason}`).sort()).toEqual([
      'bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0: litellm_provider "bedrock" is not a provider Tollgate serves',
      'gemini/gemini-2.5-pro: unchanged',
      'gpt-4o-bad-price: input_cost_per_token is not a non-negative number',
      'openai/o3-mini: unchanged',
      'sample_spec: the format description, not a model',
      'whisper-1: no price Tollgate bills (per token, per query, per image or per request)',
    ]);
    const gemini = candidates.find((c) => c.model === 'gemini-2.5-pro')!;
    expect(gemini.components).toEqual({
      input_mtok: { base: '1.25', tiers: [{ start: 200000, price: '2.5' }] },
      output_mtok: { base: '10', tiers: [{ start: 200000, price: '15' }] },
      cache_read_mtok: { base: '0.125', tiers: [{ start: 200000, price: '0.25' }] },
    });
  });

  it('prices the same usage as the map does (per-token cost x tokens, exactly)', () => {
    const { catalog, append } = givenDefaultCatalog();
    const { candidates } = parseLitellmMap(map);
    append(planImport(catalog, candidates, NOW, uuidFrom).events);
    const at = new Date(NOW.getTime() + 1000);
    const cases = [
      { entry: 'claude-3-5-sonnet-20240620', provider: 'anthropic', usage: { input_tokens: 10_000, cache_read_tokens: 3000, cache_write_tokens: 2000, output_tokens: 700, reasoning_tokens: 0, units: 0 } },
      { entry: 'gemini/gemini-2.5-pro', provider: 'gemini', usage: { input_tokens: 300_000, cache_read_tokens: 100_000, cache_write_tokens: 0, output_tokens: 5000, reasoning_tokens: 0, units: 0 } },
      { entry: 'gemini/gemini-2.5-flash-preview-04-17', provider: 'gemini', usage: { input_tokens: 1234, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 900, reasoning_tokens: 600, units: 0 } },
      { entry: 'gpt-4o-mini-2024-07-18', provider: 'openai', usage: { input_tokens: 5555, cache_read_tokens: 1024, cache_write_tokens: 0, output_tokens: 333, reasoning_tokens: 0, units: 0 } },
      { entry: 'tavily/search', provider: 'tavily', usage: { input_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 0, reasoning_tokens: 0, units: 4 } },
      { entry: 'stability/sd3.5-large', provider: 'stability', usage: { input_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, output_tokens: 0, reasoning_tokens: 0, units: 3 } },
    ];
    for (const c of cases) {
      const spec = map[c.entry];
      const model = c.entry.includes('/') ? c.entry.slice(c.entry.indexOf('/') + 1) : c.entry;
      const r = catalog.resolve(c.provider, model, at)!;
      // The price in effect is the map's (imported, or the same price already in the catalog).
      expect(r.entry.components).toEqual(candidates.find((x) => x.source_ref === `litellm ${c.entry}`)!.components);
      // The map's own arithmetic: every token class at its per-token cost (the _above_200k rate when the prompt is above 200k).
      const above = c.usage.input_tokens > 200_000;
      const rate = (field: string) => new Money(String(spec[`${field}_above_200k_tokens`] !== undefined && above ? spec[`${field}_above_200k_tokens`] : (spec[field] ?? 0)));
      const u = c.usage;
      const reasoningRate = spec.output_cost_per_reasoning_token !== undefined ? rate('output_cost_per_reasoning_token') : rate('output_cost_per_token');
      const expected = rate('input_cost_per_token').times(u.input_tokens - u.cache_read_tokens - u.cache_write_tokens)
        .plus(rate('cache_read_input_token_cost').times(u.cache_read_tokens))
        .plus(rate('cache_creation_input_token_cost').times(u.cache_write_tokens))
        .plus(rate('output_cost_per_token').times(u.output_tokens - u.reasoning_tokens))
        .plus(reasoningRate.times(u.reasoning_tokens))
        .plus(new Money(String(spec.input_cost_per_query ?? spec.output_cost_per_image ?? 0)).times(u.units));
      expect(`${c.entry}: ${costOf(r.entry.components, c.usage).toFixed()}`).toBe(`${c.entry}: ${expected.toFixed()}`);
    }
  });

  it('changes nothing when the same map is imported again', () => {
    const { catalog, append } = givenDefaultCatalog();
    const { candidates } = parseLitellmMap(map);
    append(planImport(catalog, candidates, NOW, uuidFrom).events);
    const second = planImport(catalog, candidates, new Date(NOW.getTime() + 60_000), uuidFrom);
    expect(second.events).toEqual([]);
    expect(second.report.imported).toEqual([]);
    expect(second.report.skipped.every((s) => s.reason === 'unchanged')).toBe(true);
  });
});

describe('Refreshing from genai-prices', () => {
  it('adds nothing right after the default catalog was written from the same data', () => {
    const { catalog } = givenDefaultCatalog();
    const { events, report } = planImport(catalog, genaiCandidates(), NOW, uuidFrom);
    expect(events).toEqual([]);
    expect(report.skipped.length).toBe(genaiPriceRows().length);
  });

  it('after a package update, adds exactly the changed and the new models, effective now; a second run adds nothing', () => {
    const { catalog, append } = givenDefaultCatalog();
    // Given the package's data as a newer version would have it: gpt-4o cheaper, one new model.
    const updated = installedGenaiProviders().map((p) =>
      p.id !== 'openai'
        ? p
        : {
            ...p,
            models: [
              ...p.models.map((m) => (m.id === 'gpt-4o' ? { ...m, prices: { ...(m.prices as object), input_mtok: 2, output_mtok: 8 } } : m)),
              { id: 'gpt-7', match: { equals: 'gpt-7' }, prices: { input_mtok: 0.1, output_mtok: 0.4 } },
            ],
          },
    );
    const first = planImport(catalog, genaiCandidates(genaiPriceRows(updated as never)), NOW, uuidFrom);
    expect(first.report.imported.map((i) => `${i.provider}/${i.model}:${i.reason}@${i.effective_from}`)).toEqual([
      `openai/gpt-4o:changed@${NOW.toISOString()}`,
      `openai/gpt-7:new@${NOW.toISOString()}`,
    ]);
    expect(first.events[0].data.components).toMatchObject({ input_mtok: '2', output_mtok: '8', cache_read_mtok: '1.25' });
    append(first.events);
    // History keeps the old price; from now on the new one applies.
    const usage = { input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, units: 0 };
    expect(costOf(catalog.resolve('openai', 'gpt-4o-2024-08-06', new Date('2025-03-01'))!.entry.components, usage).toFixed()).toBe('2.5');
    expect(costOf(catalog.resolve('openai', 'gpt-4o-2024-08-06', NOW)!.entry.components, usage).toFixed()).toBe('2');
    const second = planImport(catalog, genaiCandidates(genaiPriceRows(updated as never)), new Date(NOW.getTime() + 3600_000), uuidFrom);
    expect(second.events).toEqual([]);
  });
});
