import { num } from './provider';

/**
 * Built-in tools a provider runs and bills per use, beside the tokens: Anthropic's web search, OpenAI Responses' web
 * search, Gemini's grounding with Google Search. The request says whether the tool may run (and, where the API has
 * one, how often at most); the response says how often it ran. Each use is a unit priced by the tool's unit key.
 */
export const WEB_SEARCH = 'web_search';
export const GOOGLE_SEARCH = 'google_search';

/** Uses reserved for a tool whose request states no maximum (Anthropic `max_uses`, OpenAI `max_tool_calls`). */
export const DEFAULT_TOOL_USES = 10;

const positive = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.ceil(v) : undefined);
const tools = (body: any): any[] => (Array.isArray(body?.tools) ? body.tools : []);

/** Anthropic: a `web_search_*` server tool in `tools`; its `max_uses` bounds the searches. */
export function anthropicSearchBudget(body: any): { units: number; unitKey: string } | null {
  const tool = tools(body).find((t) => typeof t?.type === 'string' && t.type.startsWith('web_search'));
  return tool ? { units: positive(tool.max_uses) ?? DEFAULT_TOOL_USES, unitKey: WEB_SEARCH } : null;
}

/** Anthropic usage: `server_tool_use.web_search_requests` (web fetches cost only their tokens). */
export const anthropicSearches = (usage: any): number => num(usage?.server_tool_use?.web_search_requests);

/** OpenAI Responses: a `web_search*` tool in `tools`; `max_tool_calls` bounds every built-in tool call of the response. */
export function responsesSearchBudget(body: any): { units: number; unitKey: string } | null {
  const tool = tools(body).find((t) => typeof t?.type === 'string' && t.type.startsWith('web_search'));
  return tool ? { units: positive(body?.max_tool_calls) ?? DEFAULT_TOOL_USES, unitKey: WEB_SEARCH } : null;
}

/**
 * OpenAI chat completions with a search model (`gpt-4o-search-preview`, `web_search_options`): every call searches
 * once, and the response does not say so.
 */
export function chatSearchBudget(body: any, model: string): { units: number; unitKey: string } | null {
  return (body?.web_search_options && typeof body.web_search_options === 'object') || /-search-/.test(model) ? { units: 1, unitKey: WEB_SEARCH } : null;
}

/** OpenAI Responses: the `web_search_call` items of `output[]`. */
export const responsesSearches = (response: any): number => (Array.isArray(response?.output) ? response.output.filter((o: any) => o?.type === 'web_search_call').length : 0);

/** Gemini: `googleSearch` (or the older `googleSearchRetrieval`) in `tools`: one grounded prompt at most per call. */
export function geminiGroundingBudget(body: any): { units: number; unitKey: string } | null {
  const grounded = tools(body).some((t) => t && typeof t === 'object' && (t.googleSearch || t.google_search || t.googleSearchRetrieval || t.google_search_retrieval));
  return grounded ? { units: 1, unitKey: GOOGLE_SEARCH } : null;
}

/** Gemini: the prompt was grounded when a candidate carries `groundingMetadata` with the searches it ran. */
export function geminiGrounded(chunk: any): boolean {
  for (const c of Array.isArray(chunk?.candidates) ? chunk.candidates : []) {
    const g = c?.groundingMetadata;
    if (g && ((Array.isArray(g.webSearchQueries) && g.webSearchQueries.length) || g.searchEntryPoint || (Array.isArray(g.groundingChunks) && g.groundingChunks.length))) return true;
  }
  return false;
}
