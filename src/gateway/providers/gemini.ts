import type { OperationSpec } from '../operations';
import { geminiMaxOutput } from './max-output';
import { geminiGrounded, geminiGroundingBudget, GOOGLE_SEARCH } from './server-tools';
import { CallDescription, CallRequest, describeCall, LazyStreamMeter, num, ProviderAdapter, textOf, Usage } from './provider';

const MODEL_IN_PATH = /\/models\/([^:/]+):(\w+)/;

/** Gemini's `usageMetadata`: the prompt count includes cached tokens; thoughts are billed as output. */
export function geminiUsage(m: any): Usage | null {
  if (!m || typeof m !== 'object') return null;
  const thoughts = num(m.thoughtsTokenCount);
  return {
    input_tokens: num(m.promptTokenCount) + num(m.toolUsePromptTokenCount),
    output_tokens: num(m.candidatesTokenCount) + thoughts,
    cache_read_tokens: num(m.cachedContentTokenCount),
    reasoning_tokens: thoughts,
  };
}

/** A prompt grounded with Google Search is billed once beside its tokens. */
const grounded = (u: Usage | null, wasGrounded: boolean): Usage | null => (u && wasGrounded ? { ...u, units: 1, unit_key: GOOGLE_SEARCH } : u);

const candidatesText = (chunk: any, out: string[]) => {
  for (const c of chunk?.candidates ?? []) textOf(c?.content?.parts, out);
};

/**
 * Google Gemini (`@google/genai`): `/v1beta/models/{model}:{method}`, the model in the URL path; key in
 * `x-goog-api-key` (or `?key=`). `usageMetadata` is cumulative in a stream: the last one counts.
 */
/**
 * What Tollgate meters at Gemini: `{version}/models/{model}:{method}` (and tuned models) for the five methods below.
 * Not listed: files, cached contents, batches, tuning, model listing, `predict` and long-running operations.
 */
const GEMINI_OPERATIONS: OperationSpec[] = ['v1beta', 'v1', 'v1alpha'].flatMap((v) =>
  ['models', 'tunedModels'].flatMap((kind) =>
    (['generateContent', 'streamGenerateContent', 'countTokens', 'embedContent', 'batchEmbedContents'] as const).map(
      (method): OperationSpec => ({ name: method, method: 'POST', path: `/${v}/${kind}/{model}:${method}`, body: 'json' }),
    ),
  ),
);

export const gemini: ProviderAdapter = {
  id: 'gemini',
  operations: GEMINI_OPERATIONS,

  describe(req: CallRequest): CallDescription {
    const m = MODEL_IN_PATH.exec(req.path);
    const model = m ? decodeURIComponent(m[1]) : '';
    const method = m ? m[2] : '';
    const body = req.body;
    const prompt = () => [...textOf(body?.systemInstruction), ...textOf(body?.contents)].join('\n');
    switch (method) {
      case 'generateContent':
        return describeCall({ operation: 'generate', model, promptText: prompt(), maxOutputTokens: geminiMaxOutput(body), ...geminiGroundingBudget(body) });
      case 'streamGenerateContent':
        return describeCall({ operation: 'generate', model, streaming: true, promptText: prompt(), maxOutputTokens: geminiMaxOutput(body), ...geminiGroundingBudget(body) });
      case 'countTokens':
        return describeCall({ operation: 'count_tokens', model, free: true });
      case 'embedContent':
      case 'batchEmbedContents':
        return describeCall({ operation: 'embeddings', model, promptText: [...textOf(body?.content), ...textOf(body?.requests)].join('\n') });
      default:
        return describeCall({ operation: method || (req.method === 'GET' ? 'read' : 'other'), model });
    }
  },

  setKey(headers, key) {
    headers['x-goog-api-key'] = key;
  },

  usageFromBody(body: any): Usage | null {
    // A stream without alt=sse is one JSON array of chunks.
    if (Array.isArray(body)) {
      for (let i = body.length - 1; i >= 0; i--) if (body[i]?.usageMetadata) return grounded(geminiUsage(body[i].usageMetadata), body.some(geminiGrounded));
      return null;
    }
    return grounded(geminiUsage(body?.usageMetadata), geminiGrounded(body));
  },

  outputTextFromBody(body: any): string {
    const out: string[] = [];
    for (const chunk of Array.isArray(body) ? body : [body]) candidatesText(chunk, out);
    return out.join('');
  },

  streamMeter: () => new GeminiStreamMeter(),

  errorBody(kind, status, message, retryAfterSeconds) {
    const s = { rate_limit: 'RESOURCE_EXHAUSTED', auth: 'UNAUTHENTICATED', bad_request: 'INVALID_ARGUMENT', forbidden: 'PERMISSION_DENIED', upstream: 'UNAVAILABLE' }[kind];
    const details =
      kind === 'rate_limit'
        ? [
            { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ subject: 'tollgate', description: message }] },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds ?? 0}s` },
          ]
        : [];
    return { error: { code: status, message, status: s, details } };
  },
};

class GeminiStreamMeter extends LazyStreamMeter {
  usage(): Usage | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      if (!this.events[i].data.includes('usageMetadata')) continue;
      try {
        const u = geminiUsage(JSON.parse(this.events[i].data).usageMetadata);
        if (u) return grounded(u, this.grounded());
      } catch {
        /* cut */
      }
    }
    return null;
  }
  outputText(): string {
    const out: string[] = [];
    for (const { json } of this.parsed()) candidatesText(json, out);
    return out.join('');
  }
  /** Some chunk carries the candidates' groundingMetadata (parsed only when its text mentions it). */
  private grounded(): boolean {
    for (const e of this.events) {
      if (!e.data.includes('groundingMetadata')) continue;
      try {
        if (geminiGrounded(JSON.parse(e.data))) return true;
      } catch {
        /* cut */
      }
    }
    return false;
  }
}
