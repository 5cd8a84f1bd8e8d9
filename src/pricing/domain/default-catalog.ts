import { FALLBACK_MODEL, PriceComponents } from './price';

/** The specification's price table (DESIGN.md, dated January 2025): the catalog's first version. */
export const SPECIFICATION_EFFECTIVE_FROM = '2025-01-01T00:00:00.000Z';
/** Where genai-prices' data states no start date, its prices take effect here. */
export const GENAI_PRICES_EFFECTIVE_FROM = '2025-02-01T00:00:00.000Z';

export interface CatalogRow {
  provider: string;
  model: string;
  components: PriceComponents;
}

/** USD per 1M tokens, or per unit (`unit`). */
export const SPECIFICATION_PRICES: CatalogRow[] = [
  { provider: 'gemini', model: 'gemini-2.0-flash-lite', components: { input_mtok: '0.075', output_mtok: '0.30' } },
  { provider: 'gemini', model: 'gemini-2.5-flash', components: { input_mtok: '0.125', output_mtok: '0.375' } },
  { provider: 'gemini', model: 'gemini-2.5-pro', components: { input_mtok: '1.25', output_mtok: '10.00' } },
  { provider: 'gemini', model: 'gemini-pro', components: { input_mtok: '0.50', output_mtok: '1.50' } },
  { provider: 'openai', model: 'gpt-4', components: { input_mtok: '30.00', output_mtok: '60.00' } },
  { provider: 'openai', model: 'gpt-3.5-turbo', components: { input_mtok: '1.50', output_mtok: '2.00' } },
  { provider: 'anthropic', model: 'claude-3', components: { input_mtok: '8.00', output_mtok: '24.00' } },
  { provider: 'mistral', model: 'mistral-7b', components: { input_mtok: '0.20', output_mtok: '0.60' } },
  { provider: 'tavily', model: 'search', components: { unit: '0.001' } },
  { provider: 'serper', model: 'search', components: { unit: '0.001' } },
  { provider: 'exa', model: 'search', components: { unit: '0.003' } },
  { provider: 'firecrawl', model: 'scrape', components: { unit: '0.002' } },
  { provider: 'stability', model: 'image', components: { unit: '0.04' } },
];

/**
 * Each provider's fallback price (model key `*`), in effect from the start: what a model the catalog does not know is
 * priced by, so it is never free. For LLM providers it is the provider's flagship general model at the time the
 * catalog was written (gemini-2.5-pro's base rates, gpt-4o, a Sonnet, mistral-large, gpt-oss-120b on Groq): near
 * what an unknown current model costs, never far below it. Per-unit providers fall back to their unit price.
 * The operator changes one with `PUT /api/admin/pricing/{provider}/*`.
 */
export const FALLBACK_PRICES: CatalogRow[] = [
  { provider: 'gemini', model: FALLBACK_MODEL, components: { input_mtok: '1.25', output_mtok: '10' } },
  { provider: 'openai', model: FALLBACK_MODEL, components: { input_mtok: '2.5', output_mtok: '10' } },
  { provider: 'anthropic', model: FALLBACK_MODEL, components: { input_mtok: '3', output_mtok: '15' } },
  { provider: 'mistral', model: FALLBACK_MODEL, components: { input_mtok: '2', output_mtok: '6' } },
  { provider: 'huggingface', model: FALLBACK_MODEL, components: { input_mtok: '0.15', output_mtok: '0.75' } },
  { provider: 'tavily', model: FALLBACK_MODEL, components: { unit: '0.001' } },
  { provider: 'serper', model: FALLBACK_MODEL, components: { unit: '0.001' } },
  { provider: 'exa', model: FALLBACK_MODEL, components: { unit: '0.003' } },
  { provider: 'firecrawl', model: FALLBACK_MODEL, components: { unit: '0.002' } },
  { provider: 'stability', model: FALLBACK_MODEL, components: { unit: '0.04' } },
];

/** genai-prices' provider ids whose models Tollgate prices, and the Tollgate provider they belong to. */
export const GENAI_PROVIDERS: Record<string, string> = {
  google: 'gemini',
  openai: 'openai',
  anthropic: 'anthropic',
  mistral: 'mistral',
  // Tollgate's Hugging Face provider is gpt-oss-120b served by Groq through the HF router.
  huggingface_groq: 'huggingface',
};
