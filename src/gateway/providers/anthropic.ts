import type { OperationSpec } from '../operations';
import { anthropicMaxOutput } from './max-output';
import { anthropicSearchBudget, anthropicSearches, WEB_SEARCH } from './server-tools';
import { bodyModel, CallDescription, CallRequest, describeCall, LazyStreamMeter, num, ProviderAdapter, textOf, Usage } from './provider';

/**
 * Anthropic: `/v1/messages` (the SDK adds `/v1` itself), key in `x-api-key`. Its `input_tokens` excludes the cache
 * counts, so the whole prompt is input + cache read + cache write.
 */
export function anthropicUsage(u: any): Usage | null {
  if (!u || typeof u !== 'object') return null;
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  const searches = anthropicSearches(u);
  return {
    input_tokens: num(u.input_tokens) + read + write,
    output_tokens: num(u.output_tokens),
    cache_read_tokens: read,
    cache_write_tokens: write,
    // The web search server tool is billed per search, beside the tokens.
    ...(searches ? { units: searches, unit_key: WEB_SEARCH } : {}),
  };
}

/** What Tollgate meters at Anthropic. Not listed: message batches, files, models, skills, the admin and organization API. */
const ANTHROPIC_OPERATIONS: OperationSpec[] = [
  { name: 'messages', method: 'POST', path: '/v1/messages', body: 'json' },
  { name: 'count_tokens', method: 'POST', path: '/v1/messages/count_tokens', body: 'json' },
  { name: 'completion', method: 'POST', path: '/v1/complete', body: 'json' },
];

export const anthropic: ProviderAdapter = {
  id: 'anthropic',
  operations: ANTHROPIC_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const body = req.body;
    const model = bodyModel(body);
    const prompt = () => [...textOf(body?.system), ...textOf(body?.messages)].join('\n');
    // Counting tokens is free at Anthropic: forwarded, not billed.
    if (req.path.endsWith('/messages/count_tokens')) return describeCall({ operation: 'count_tokens', model, free: true });
    if (req.path.endsWith('/messages')) return describeCall({ operation: 'messages', model, streaming: !!body?.stream, promptText: prompt(), maxOutputTokens: anthropicMaxOutput(body), ...anthropicSearchBudget(body) });
    if (req.path.endsWith('/complete')) return describeCall({ operation: 'completion', model, streaming: !!body?.stream, promptText: textOf(body?.prompt).join(''), maxOutputTokens: anthropicMaxOutput(body) });
    return describeCall({ operation: req.method === 'GET' ? 'read' : 'other', model });
  },

  setKey(headers, key) {
    headers['x-api-key'] = key;
  },

  usageFromBody: (body: any) => anthropicUsage(body?.usage),

  outputTextFromBody: (body: any) => textOf(body?.content).join(''),

  streamMeter: () => new AnthropicStreamMeter(),

  errorBody(kind, _status, message) {
    const type = { rate_limit: 'rate_limit_error', auth: 'authentication_error', bad_request: 'invalid_request_error', forbidden: 'permission_error', upstream: 'api_error' }[kind];
    return { type: 'error', error: { type, message }, request_id: null };
  },
};

/** `message_start` carries the input and cache counts; each `message_delta` the cumulative output (keep the last). */
class AnthropicStreamMeter extends LazyStreamMeter {
  usage(): Usage | null {
    let start: any = null;
    let delta: any = null;
    for (const e of this.events) {
      if (e.event === 'message_start' || e.data.startsWith('{"type":"message_start"')) start = e.data;
      else if (e.event === 'message_delta' || e.data.startsWith('{"type":"message_delta"')) delta = e.data;
    }
    const parse = (d: string | null) => {
      try {
        return d ? JSON.parse(d) : null;
      } catch {
        return null;
      }
    };
    const s = parse(start)?.message?.usage;
    const d = parse(delta)?.usage;
    if (!s && !d) return null;
    // A message_delta may repeat the input and cache counts; where it does they are the final ones.
    return anthropicUsage({ ...(s ?? {}), ...Object.fromEntries(Object.entries(d ?? {}).filter(([, v]) => v !== null && v !== undefined)) });
  }
  outputText(): string {
    const out: string[] = [];
    for (const { json } of this.parsed()) {
      if (json?.type !== 'content_block_delta') continue;
      if (typeof json.delta?.text === 'string') out.push(json.delta.text);
      else if (typeof json.delta?.partial_json === 'string') out.push(json.delta.partial_json);
      else if (typeof json.delta?.thinking === 'string') out.push(json.delta.thinking);
    }
    return out.join('');
  }
}
