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

/** A dated price with where it comes from: the paid-work prices below. */
export interface DatedCatalogRow extends CatalogRow {
  effective_from: string;
  source_ref: string;
}

const dalle = (model: string, quality: string, size: string, unit: string): DatedCatalogRow => ({
  provider: 'openai',
  model: `image/${model}/${quality}/${size}`,
  components: { unit },
  effective_from: GENAI_PRICES_EFFECTIVE_FROM,
  source_ref: `openai.com/api/pricing: ${model} ${quality} ${size} per image (unchanged since 2023-11-06)`,
});

/** Stability AI bills credits at $0.01 each (platform.stability.ai/pricing, the credits it published in 2025). */
const stabilityCredits = (operation: string, credits: number): DatedCatalogRow => ({
  provider: 'stability',
  model: operation,
  components: { unit: String(credits / 100) },
  effective_from: GENAI_PRICES_EFFECTIVE_FROM,
  source_ref: `platform.stability.ai/pricing: ${operation} ${credits} credits at $0.01 (2025)`,
});

/**
 * Paid work that is not tokens of a chat model, priced by the provider's published price where the maintained data
 * (genai-prices, LiteLLM's map) has none: images by model, quality and size, server tools per use, Stability's other
 * endpoints by credits. Written once to their own seed stream (PAID_WORK_SEED_STREAM), so a catalog seeded before
 * they existed gets them too. Keys are unit keys (`unit` is USD per image, search or job). They take effect when the
 * catalog moves on from the specification's table (2025-02-01) or at the tool's launch; usage dated before a unit key's
 * first price is priced at that first price (never free).
 */
export const PAID_WORK_PRICES: DatedCatalogRow[] = [
  dalle('dall-e-3', 'standard', '1024x1024', '0.04'),
  dalle('dall-e-3', 'standard', '1024x1792', '0.08'),
  dalle('dall-e-3', 'standard', '1792x1024', '0.08'),
  dalle('dall-e-3', 'hd', '1024x1024', '0.08'),
  dalle('dall-e-3', 'hd', '1024x1792', '0.12'),
  dalle('dall-e-3', 'hd', '1792x1024', '0.12'),
  dalle('dall-e-2', 'standard', '256x256', '0.016'),
  dalle('dall-e-2', 'standard', '512x512', '0.018'),
  dalle('dall-e-2', 'standard', '1024x1024', '0.02'),
  // Used when the model's genai-prices entry has no web_searches_kcount of its own.
  { provider: 'openai', model: 'web_search', components: { unit: '0.01' }, effective_from: '2025-03-11T00:00:00.000Z', source_ref: 'platform.openai.com/docs/pricing: web search tool calls $10.00 / 1k calls' },
  { provider: 'anthropic', model: 'web_search', components: { unit: '0.01' }, effective_from: '2025-05-07T00:00:00.000Z', source_ref: 'docs.anthropic.com/en/docs/build-with-claude/tool-use/web-search-tool: $10 per 1,000 searches' },
  { provider: 'gemini', model: 'google_search', components: { unit: '0.035' }, effective_from: GENAI_PRICES_EFFECTIVE_FROM, source_ref: 'ai.google.dev/gemini-api/docs/pricing: Grounding with Google Search $35 / 1,000 grounded prompts (the free daily allowance is not applied)' },
  stabilityCredits('edit/erase', 5),
  stabilityCredits('edit/inpaint', 5),
  stabilityCredits('edit/outpaint', 4),
  stabilityCredits('edit/search-and-replace', 5),
  stabilityCredits('edit/search-and-recolor', 5),
  stabilityCredits('edit/remove-background', 5),
  stabilityCredits('edit/replace-background-and-relight', 8),
  stabilityCredits('control/sketch', 5),
  stabilityCredits('control/structure', 5),
  stabilityCredits('control/style', 5),
  stabilityCredits('control/style-transfer', 8),
  stabilityCredits('upscale/fast', 2),
  stabilityCredits('upscale/conservative', 40),
  stabilityCredits('upscale/creative', 60),
];
