import type { OperationSpec } from '../operations';
import { bearer, bodyModel, CallDescription, CallRequest, describeCall, ProviderAdapter, textOf } from './provider';
import { chatMaxOutput } from './max-output';
import { ChatStreamMeter, chatBodyUsage, chatOutputText, chatPromptText } from './openai-compatible';

/**
 * Mistral: `/v1/chat/completions`, `/v1/fim/completions`, `/v1/embeddings`, `/v1/agents/completions`; Bearer key.
 * Usage comes in the last stream chunk without opt-in, so nothing is injected (it reportedly rejects stream_options).
 */
/** What Tollgate meters at Mistral. Not listed: agents, files, fine-tuning, batch jobs, models, OCR, moderations. */
const MISTRAL_OPERATIONS: OperationSpec[] = [
  { name: 'chat', method: 'POST', path: '/v1/chat/completions', body: 'json' },
  { name: 'fim', method: 'POST', path: '/v1/fim/completions', body: 'json' },
  { name: 'embeddings', method: 'POST', path: '/v1/embeddings', body: 'json' },
];

export const mistral: ProviderAdapter = {
  id: 'mistral',
  operations: MISTRAL_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const body = req.body;
    const model = bodyModel(body);
    const p = req.path;
    if (p.endsWith('/embeddings')) return describeCall({ operation: 'embeddings', model, promptText: textOf(body?.input ?? body?.inputs).join('\n') });
    if (p.endsWith('/fim/completions')) return describeCall({ operation: 'fim', model, streaming: !!body?.stream, promptText: [...textOf(body?.prompt), ...textOf(body?.suffix)].join('\n'), maxOutputTokens: chatMaxOutput(body) });
    if (p.endsWith('/completions')) return describeCall({ operation: 'chat', model, streaming: !!body?.stream, promptText: chatPromptText(body), maxOutputTokens: chatMaxOutput(body) });
    return describeCall({ operation: req.method === 'GET' ? 'read' : 'other', model });
  },

  setKey: bearer,
  usageFromBody: (body: any) => chatBodyUsage(body),
  outputTextFromBody: chatOutputText,
  streamMeter: () => new ChatStreamMeter(false),

  errorBody(kind, _status, message) {
    const type = { rate_limit: 'rate_limited', auth: 'invalid_api_key', bad_request: 'invalid_request_error', forbidden: 'forbidden', upstream: 'api_error' }[kind];
    return { object: 'error', message, type, param: null, code: kind === 'rate_limit' ? '1300' : null };
  },
};
