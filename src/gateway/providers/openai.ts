import type { OperationSpec } from '../operations';
import { bodyModel, CallDescription, CallRequest, describeCall, LazyStreamMeter, ProviderAdapter, StreamMeter, textOf, Usage, bearer } from './provider';
import { chatMaxOutput, responsesMaxOutput } from './max-output';
import { imageCallPricing } from './openai-images';
import { chatSearchBudget, responsesSearchBudget, responsesSearches, WEB_SEARCH } from './server-tools';
import { ChatStreamMeter, chatBodyUsage, chatOutputText, chatPromptText, openAiError, responsesUsage, withIncludeUsage } from './openai-compatible';

/** OpenAI: `/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`, `/v1/images/*`, `/v1/completions`; Bearer key. */
/**
 * What Tollgate meters at OpenAI. Not listed, so never forwarded with the tenant's key: files, uploads, batches,
 * fine-tuning, vector stores, assistants and threads, realtime client secrets, stored chat completions (GET/POST/DELETE
 * `/v1/chat/completions/{id}...`), stored responses (`/v1/responses/{id}`), model listing and deletion, moderations
 * (free at OpenAI: nothing to meter), organization and project endpoints. An operator may allow some per tenant
 * (passthrough, tenant keys only).
 */
const OPENAI_OPERATIONS: OperationSpec[] = [
  { name: 'chat', method: 'POST', path: '/v1/chat/completions', body: 'json' },
  { name: 'responses', method: 'POST', path: '/v1/responses', body: 'json' },
  { name: 'embeddings', method: 'POST', path: '/v1/embeddings', body: 'json' },
  { name: 'completion', method: 'POST', path: '/v1/completions', body: 'json' },
  { name: 'image', method: 'POST', path: '/v1/images/generations', body: 'json' },
  { name: 'image_edit', method: 'POST', path: '/v1/images/edits', body: 'multipart' },
  { name: 'image_variation', method: 'POST', path: '/v1/images/variations', body: 'multipart' },
  { name: 'audio_speech', method: 'POST', path: '/v1/audio/speech', body: 'json' },
  { name: 'audio_transcription', method: 'POST', path: '/v1/audio/transcriptions', body: 'multipart' },
  { name: 'audio_translation', method: 'POST', path: '/v1/audio/translations', body: 'multipart' },
];

export const openai: ProviderAdapter = {
  id: 'openai',
  operations: OPENAI_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const body = req.body;
    const model = bodyModel(body);
    const p = req.path;
    if (p.endsWith('/chat/completions')) {
      const { body: rewritten, hide } = withIncludeUsage(body);
      return describeCall({ operation: 'chat', model, streaming: !!body?.stream, promptText: chatPromptText(body), rewrittenBody: rewritten, hideUsageChunk: hide, maxOutputTokens: chatMaxOutput(body), ...chatSearchBudget(body, model) });
    }
    if (p.endsWith('/responses')) {
      const prompt = [...textOf(body?.instructions), ...textOf(body?.input)].join('\n');
      return describeCall({ operation: 'responses', model, streaming: !!body?.stream, promptText: prompt, maxOutputTokens: responsesMaxOutput(body), ...responsesSearchBudget(body) });
    }
    if (p.endsWith('/embeddings')) return describeCall({ operation: 'embeddings', model, promptText: textOf(body?.input).join('\n') });
    if (p.includes('/images/')) return describeCall({ operation: 'image', ...imageCallPricing(p, body, req.rawBody) });
    if (p.endsWith('/completions')) return describeCall({ operation: 'completion', model, streaming: !!body?.stream, promptText: textOf(body?.prompt).join('\n'), maxOutputTokens: chatMaxOutput(body) });
    if (p.includes('/audio/')) return describeCall({ operation: 'audio', model, promptText: textOf(body?.input).join('') });
    // Anything else (models list, files, batches) is still a call: counted, never silently free.
    return describeCall({ operation: req.method === 'GET' ? 'read' : 'other', model });
  },

  setKey: bearer,

  usageFromBody(body: any, call: CallDescription): Usage | null {
    if (call.operation === 'image') {
      const u = responsesUsage(body?.usage);
      if (u) return u;
      return Array.isArray(body?.data) ? { units: body.data.length } : null;
    }
    if (call.operation === 'responses') return responseUsage(body);
    return withChatSearch(chatBodyUsage(body), call);
  },

  outputTextFromBody(body: any): string {
    if (typeof body?.output_text === 'string') return body.output_text;
    if (Array.isArray(body?.output)) return textOf(body.output).join('');
    return chatOutputText(body);
  },

  streamMeter(call: CallDescription): StreamMeter {
    if (call.operation === 'responses' || call.operation === 'image') return new ResponsesStreamMeter();
    if (call.operation === 'chat' && call.unitKey === WEB_SEARCH) return new SearchChatStreamMeter(call);
    return new ChatStreamMeter(call.hideUsageChunk);
  },

  errorBody: (kind, _status, message) => openAiError(kind, message),
};

/** A search model's chat call: its one search beside the tokens it reported (the answer does not count searches). */
const withChatSearch = (u: Usage | null, call: CallDescription): Usage | null => (u && call.unitKey === WEB_SEARCH ? { ...u, units: call.units, unit_key: WEB_SEARCH } : u);

class SearchChatStreamMeter extends ChatStreamMeter {
  constructor(private readonly call: CallDescription) {
    super(call.hideUsageChunk);
  }
  override usage(): Usage | null {
    return withChatSearch(super.usage(), this.call);
  }
}

/** A Responses API response's tokens, and its web searches (`web_search_call` items of `output[]`, billed per call). */
function responseUsage(response: any): Usage | null {
  const u = responsesUsage(response?.usage);
  const searches = responsesSearches(response);
  if (!searches) return u;
  return { ...(u ?? {}), units: searches, unit_key: WEB_SEARCH };
}

/** Responses API stream: `event: <type>` frames; the terminal `response.completed|incomplete|failed` carries usage. */
class ResponsesStreamMeter extends LazyStreamMeter {
  usage(): Usage | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const d = this.events[i].data;
      if (!d.includes('"usage"')) continue;
      try {
        const j = JSON.parse(d);
        const u = j?.response?.usage ? responseUsage(j.response) : responsesUsage(j?.usage);
        if (u) return u;
      } catch {
        /* cut */
      }
    }
    return null;
  }
  outputText(): string {
    const out: string[] = [];
    for (const { json } of this.parsed()) if (typeof json?.type === 'string' && json.type.endsWith('.delta') && typeof json.delta === 'string') out.push(json.delta);
    return out.join('');
  }
}

