import { Money } from '../../../libs/money';
import { PriceCandidate, ImportReport } from '../domain/import-plan';
import { PriceComponents, PriceValue, decimalOf } from '../domain/price';

/** LiteLLM's `litellm_provider` values that Tollgate serves, and the Tollgate provider each is. */
export const LITELLM_PROVIDERS: Record<string, string> = {
  gemini: 'gemini',
  openai: 'openai',
  'text-completion-openai': 'openai',
  anthropic: 'anthropic',
  mistral: 'mistral',
  codestral: 'mistral',
  huggingface: 'huggingface',
  tavily: 'tavily',
  serper: 'serper',
  exa_ai: 'exa',
  firecrawl: 'firecrawl',
  stability: 'stability',
};

/** LiteLLM per-token fields and the price key each becomes (per 1M tokens). */
const PER_TOKEN: Record<string, string> = {
  input_cost_per_token: 'input_mtok',
  output_cost_per_token: 'output_mtok',
  cache_read_input_token_cost: 'cache_read_mtok',
  cache_creation_input_token_cost: 'cache_write_mtok',
  output_cost_per_reasoning_token: 'output_reasoning_mtok',
};

/**
 * Parses LiteLLM's `model_prices_and_context_window.json` into price candidates. Per-token costs become prices per
 * 1M tokens (exact: the decimal of the JSON number's shortest form times 10^6), `<field>_above_<N>k_tokens` a tier
 * starting at N*1000 prompt tokens, `input_cost_per_query` and `output_cost_per_image` a unit price,
 * `input_cost_per_request` a price per thousand calls. Entries Tollgate cannot use are reported as skipped, with why.
 */
export function parseLitellmMap(json: unknown): { candidates: PriceCandidate[]; skipped: ImportReport['skipped'] } {
  const candidates: PriceCandidate[] = [];
  const skipped: ImportReport['skipped'] = [];
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('A LiteLLM price map is a JSON object keyed by model name.');
  for (const [entry, raw] of Object.entries(json as Record<string, unknown>)) {
    if (entry === 'sample_spec') {
      skipped.push({ entry, reason: 'the format description, not a model' });
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      skipped.push({ entry, reason: 'not an object' });
      continue;
    }
    const spec = raw as Record<string, unknown>;
    const litellmProvider = typeof spec.litellm_provider === 'string' ? spec.litellm_provider : '';
    const provider = LITELLM_PROVIDERS[litellmProvider];
    if (!provider) {
      skipped.push({ entry, reason: litellmProvider ? `litellm_provider "${litellmProvider}" is not a provider Tollgate serves` : 'no litellm_provider' });
      continue;
    }
    const model = modelKey(entry, litellmProvider);
    try {
      const components = componentsOf(spec);
      if (Object.keys(components).length === 0) {
        skipped.push({ provider, model, entry, reason: 'no price Tollgate bills (per token, per query, per image or per request)' });
        continue;
      }
      const maxOutput = typeof spec.max_output_tokens === 'number' && Number.isSafeInteger(spec.max_output_tokens) && spec.max_output_tokens > 0 ? spec.max_output_tokens : undefined;
      candidates.push({ provider, model, components, source: 'litellm', source_ref: `litellm ${entry}`, ...(maxOutput ? { max_output_tokens: maxOutput } : {}) });
    } catch (err) {
      skipped.push({ provider, model, entry, reason: (err as Error).message });
    }
  }
  return { candidates, skipped };
}

/** `gemini/gemini-2.5-pro` -> `gemini-2.5-pro`; `gpt-4o` stays. */
function modelKey(entry: string, litellmProvider: string): string {
  const lower = entry.trim().toLowerCase();
  for (const prefix of [`${litellmProvider}/`, ...Object.keys(LITELLM_PROVIDERS).filter((p) => LITELLM_PROVIDERS[p] === LITELLM_PROVIDERS[litellmProvider]).map((p) => `${p}/`)])
    if (lower.startsWith(prefix)) return lower.slice(prefix.length);
  return lower;
}

function componentsOf(spec: Record<string, unknown>): PriceComponents {
  const out: PriceComponents = {};
  const num = (field: string): string | undefined => {
    const v = spec[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${field} is not a number`);
    try {
      return decimalOf(v);
    } catch {
      throw new Error(`${field} is not a non-negative number`);
    }
  };
  for (const [field, key] of Object.entries(PER_TOKEN)) {
    const base = num(field);
    const tiers: { start: number; price: string }[] = [];
    for (const f of Object.keys(spec)) {
      const m = new RegExp(`^${field}_above_(\\d+)k_tokens$`).exec(f);
      const price = m ? num(f) : undefined;
      if (m && price !== undefined) tiers.push({ start: Number(m[1]) * 1000, price: perMillion(price) });
    }
    if (base === undefined) {
      if (tiers.length) throw new Error(`${field} has tiers but no base price`);
      continue;
    }
    const value: PriceValue = tiers.length ? { base: perMillion(base), tiers: tiers.sort((a, b) => a.start - b.start) } : perMillion(base);
    out[key] = value;
  }
  const unit = num('input_cost_per_query') ?? num('output_cost_per_image');
  if (unit !== undefined) out.unit = unit;
  const perRequest = num('input_cost_per_request');
  if (perRequest !== undefined) out.requests_kcount = new Money(perRequest).times(1000).toFixed();
  return out;
}

const perMillion = (perToken: string) => new Money(perToken).times(1e6).toFixed();
