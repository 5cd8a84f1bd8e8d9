/**
 * The most output tokens a model generates in one call when the request states no maximum: what admission reserves for
 * such a call. A price may state its own (`max_output_tokens`, from a LiteLLM import or the operator); otherwise the
 * longest matching prefix below; otherwise DEFAULT_MAX_OUTPUT_TOKENS. Figures are the providers' published maxima as
 * LiteLLM's model_prices_and_context_window.json and the providers' model pages gave them in 2025 (see each row).
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 16_384;

/** Provider -> model-name prefix -> max output tokens. */
export const MAX_OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  openai: {
    // platform.openai.com/docs/models (2025)
    'gpt-5': 128_000,
    'gpt-4.1': 32_768,
    'gpt-4o': 16_384,
    'chatgpt-4o': 16_384,
    'gpt-4-turbo': 4_096,
    'gpt-4': 8_192,
    'gpt-3.5-turbo': 4_096,
    o1: 100_000,
    'o1-mini': 65_536,
    o3: 100_000,
    'o4-mini': 100_000,
  },
  anthropic: {
    // docs.anthropic.com/en/docs/about-claude/models (2025; the API requires max_tokens, so these are a fallback)
    'claude-opus-4': 32_000,
    'claude-opus-4-5': 64_000,
    'claude-sonnet-4': 64_000,
    'claude-haiku-4': 64_000,
    'claude-3-7-sonnet': 64_000,
    'claude-3-5-sonnet': 8_192,
    'claude-3-5-haiku': 8_192,
    'claude-3-opus': 4_096,
    'claude-3-haiku': 4_096,
    'claude-3': 4_096,
  },
  gemini: {
    // ai.google.dev/gemini-api/docs/models (2025)
    'gemini-2.5': 65_536,
    'gemini-2.0': 8_192,
    'gemini-1.5': 8_192,
    'gemini-pro': 2_048,
  },
  mistral: {
    // docs.mistral.ai/getting-started/models (context windows: Mistral caps output only by the context)
    'mistral-large': 131_072,
    'mistral-medium': 131_072,
    'mistral-small': 131_072,
    'mistral-7b': 32_768,
    'open-mistral-7b': 32_768,
    codestral: 262_144,
  },
  huggingface: {
    // console.groq.com/docs/models: openai/gpt-oss-120b, max completion tokens 65,536
    'openai/gpt-oss-120b': 65_536,
    'gpt-oss-120b': 65_536,
  },
};

/** The built-in maximum for a model (the longest prefix that matches), or the stated default. */
export function builtInMaxOutput(provider: string, model: string): number {
  const table = MAX_OUTPUT_TOKENS[provider];
  const name = model.toLowerCase().replace(/^models\//, '');
  let best = '';
  if (table) for (const prefix of Object.keys(table)) if (prefix.length > best.length && name.startsWith(prefix)) best = prefix;
  return best ? table![best] : DEFAULT_MAX_OUTPUT_TOKENS;
}
