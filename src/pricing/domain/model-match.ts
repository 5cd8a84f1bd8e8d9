import { MatchRule } from './price';

/** genai-prices' matching: case-insensitive except regex. */
export function matches(rule: MatchRule, model: string): boolean {
  const m = model.toLowerCase();
  if ('or' in rule) return rule.or.some((r) => matches(r, model));
  if ('and' in rule) return rule.and.every((r) => matches(r, model));
  if ('equals' in rule) return m === rule.equals.toLowerCase();
  if ('starts_with' in rule) return m.startsWith(rule.starts_with.toLowerCase());
  if ('ends_with' in rule) return m.endsWith(rule.ends_with.toLowerCase());
  if ('contains' in rule) return m.includes(rule.contains.toLowerCase());
  if ('regex' in rule) return new RegExp(rule.regex).test(model);
  return false;
}

const COMPACT_DATE = /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;

/** `claude-3-opus-20240229` -> `claude-3-opus-2024-02-29` (genai-prices retries a model with its dates spelled so). */
export function dashDates(model: string): string {
  return model.replace(COMPACT_DATE, (whole, dash: string, y: string, mo: string, d: string) => {
    const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    return date.getUTCFullYear() === Number(y) && date.getUTCMonth() === Number(mo) - 1 && date.getUTCDate() === Number(d) ? `${dash}${y}-${mo}-${d}` : whole;
  });
}

/**
 * How users spell a model before it is looked up: lower case, no `models/` (Gemini's REST path) or `tunedModels/`
 * prefix, no Hugging Face router suffix (`openai/gpt-oss-120b:cerebras` names the serving provider, not the model).
 */
export function normalizeModel(provider: string, model: string): string {
  let m = model.trim().toLowerCase();
  if (provider === 'gemini') m = m.replace(/^(models|tunedmodels)\//, '');
  if (provider === 'huggingface') m = m.replace(/:[a-z0-9._-]+$/, '');
  return m;
}

/** Explicit aliases, tried after the catalog's own keys and matching rules and before the longest known prefix. */
export const MODEL_ALIASES: Record<string, Record<string, string>> = {
  gemini: {
    'gemini-1.0-pro': 'gemini-pro',
    'gemini-1.0-pro-latest': 'gemini-pro',
    'gemini-2.5-flash-latest': 'gemini-2.5-flash',
    'gemini-flash-latest': 'gemini-2.5-flash',
    'gemini-pro-latest': 'gemini-2.5-pro',
    'gemini-flash-lite-latest': 'gemini-2.0-flash-lite',
  },
  openai: {
    'gpt-4-0613': 'gpt-4',
    'gpt-4-0314': 'gpt-4',
    'gpt-3.5-turbo-0125': 'gpt-3.5-turbo',
    'gpt-35-turbo': 'gpt-3.5-turbo',
  },
  anthropic: {
    'claude-3-opus-20240229': 'claude-3-opus-latest',
    'claude-3-sonnet-20240229': 'claude-3-sonnet',
    'claude-3-haiku-20240307': 'claude-3-haiku',
  },
  mistral: {
    'open-mistral-7b': 'mistral-7b',
    'mistral-tiny': 'mistral-7b',
  },
  huggingface: {
    'gpt-oss-120b': 'openai/gpt-oss-120b',
  },
};

/** True when `key` is `model`'s prefix at a word boundary (`gemini-2.5-flash` of `gemini-2.5-flash-001`). */
export function isPrefixAtBoundary(key: string, model: string): boolean {
  if (!model.startsWith(key)) return false;
  if (model.length === key.length) return true;
  return /[-:@/_]/.test(model[key.length]);
}
