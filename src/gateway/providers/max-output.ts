/**
 * The most output a call may generate, as its request states it: what admission reserves beside the prompt. A number is
 * the request's own maximum; null means the call generates tokens but sets no maximum (admission then takes the model's
 * maximum output from the catalog). Calls that generate no tokens (embeddings, searches) leave the field undefined.
 */
export type MaxOutput = number | null;

const positiveInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined);

/** Several choices (`n`, `candidateCount`) each generate up to the maximum. */
const times = (max: number | undefined, n: unknown): MaxOutput => (max === undefined ? null : max * (positiveInt(n) ?? 1));

/** OpenAI chat (and the OpenAI-compatible chats): `max_completion_tokens`, else the older `max_tokens`; times `n`. */
export const chatMaxOutput = (body: any): MaxOutput => times(positiveInt(body?.max_completion_tokens) ?? positiveInt(body?.max_tokens), body?.n);

/** OpenAI Responses: `max_output_tokens`. */
export const responsesMaxOutput = (body: any): MaxOutput => positiveInt(body?.max_output_tokens) ?? null;

/** Anthropic messages (required by the API) and legacy completions (`max_tokens_to_sample`). */
export const anthropicMaxOutput = (body: any): MaxOutput => positiveInt(body?.max_tokens) ?? positiveInt(body?.max_tokens_to_sample) ?? null;

/** Gemini: `generationConfig.maxOutputTokens` (the REST API also accepts `generation_config.max_output_tokens`). */
export const geminiMaxOutput = (body: any): MaxOutput => {
  const config = body?.generationConfig ?? body?.generation_config;
  return times(positiveInt(config?.maxOutputTokens) ?? positiveInt(config?.max_output_tokens), config?.candidateCount ?? config?.candidate_count);
};
