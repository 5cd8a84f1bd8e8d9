import type { OperationSpec } from '../operations';
import { bearer, bodyModel, CallDescription, CallRequest, describeCall, ProviderAdapter, textOf } from './provider';
import { chatMaxOutput } from './max-output';
import { ChatStreamMeter, chatBodyUsage, chatOutputText, chatPromptText, openAiError, withIncludeUsage } from './openai-compatible';

/**
 * gpt-oss-120b through the Hugging Face router (`/v1/chat/completions`, model `openai/gpt-oss-120b:<provider>`) or
 * Groq's OpenAI-compatible path (`/openai/v1/chat/completions`). OpenAI-shaped; Groq streams report `x_groq.usage`.
 * The `:provider` suffix is dropped from the recorded model (it routes, it does not change the price).
 */
/** The Hugging Face router's and Groq's OpenAI-compatible calls (`/v1/...` and `/openai/v1/...`). Not listed: models, files, batches, audio. */
const HUGGINGFACE_OPERATIONS: OperationSpec[] = ['/v1', '/openai/v1'].flatMap((base): OperationSpec[] => [
  { name: 'chat', method: 'POST', path: `${base}/chat/completions`, body: 'json' },
  { name: 'completion', method: 'POST', path: `${base}/completions`, body: 'json' },
  { name: 'embeddings', method: 'POST', path: `${base}/embeddings`, body: 'json' },
]);

export const huggingface: ProviderAdapter = {
  id: 'huggingface',
  operations: HUGGINGFACE_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const body = req.body;
    const model = bodyModel(body).replace(/:[^/:]+$/, '');
    if (req.path.endsWith('/chat/completions')) {
      const { body: rewritten, hide } = withIncludeUsage(body);
      return describeCall({ operation: 'chat', model, streaming: !!body?.stream, promptText: chatPromptText(body), rewrittenBody: rewritten, hideUsageChunk: hide, maxOutputTokens: chatMaxOutput(body) });
    }
    if (req.path.endsWith('/completions')) return describeCall({ operation: 'completion', model, streaming: !!body?.stream, promptText: textOf(body?.prompt).join('\n'), maxOutputTokens: chatMaxOutput(body) });
    if (req.path.endsWith('/embeddings')) return describeCall({ operation: 'embeddings', model, promptText: textOf(body?.input).join('\n') });
    return describeCall({ operation: req.method === 'GET' ? 'read' : 'other', model });
  },

  setKey: bearer,
  usageFromBody: (body: any) => chatBodyUsage(body),
  outputTextFromBody: chatOutputText,
  streamMeter: (call) => new ChatStreamMeter(call.hideUsageChunk),
  errorBody: (kind, _status, message) => openAiError(kind, message),
};
