import { LazyStreamMeter, num, textOf, Usage } from './provider';

/**
 * The OpenAI chat-completions wire format, shared by OpenAI, Mistral, Groq and the Hugging Face router:
 * `usage.{prompt_tokens (cache included), completion_tokens (reasoning included), *_details}`; Groq streams put it
 * in `x_groq.usage`.
 */
export function chatUsage(u: any): Usage | null {
  if (!u || typeof u !== 'object') return null;
  if (u.prompt_tokens === undefined && u.completion_tokens === undefined && u.input_tokens === undefined) return null;
  if (u.input_tokens !== undefined) return responsesUsage(u);
  return {
    input_tokens: num(u.prompt_tokens),
    output_tokens: num(u.completion_tokens),
    cache_read_tokens: num(u.prompt_tokens_details?.cached_tokens),
    cache_write_tokens: num(u.prompt_tokens_details?.cache_write_tokens),
    reasoning_tokens: num(u.completion_tokens_details?.reasoning_tokens),
  };
}

/** The Responses API (and gpt-image) shape: `input_tokens`, `output_tokens` and their details. */
export function responsesUsage(u: any): Usage | null {
  if (!u || typeof u !== 'object' || (u.input_tokens === undefined && u.output_tokens === undefined)) return null;
  return {
    input_tokens: num(u.input_tokens),
    output_tokens: num(u.output_tokens),
    cache_read_tokens: num(u.input_tokens_details?.cached_tokens),
    reasoning_tokens: num(u.output_tokens_details?.reasoning_tokens),
  };
}

/** Usage of a chat body or chunk: top-level `usage`, else Groq's `x_groq.usage`. */
export const chatBodyUsage = (body: any): Usage | null => chatUsage(body?.usage) ?? chatUsage(body?.x_groq?.usage);

export function chatOutputText(body: any): string {
  const out: string[] = [];
  for (const c of body?.choices ?? []) {
    textOf(c?.message?.content, out);
    if (typeof c?.text === 'string') out.push(c.text);
    for (const t of c?.message?.tool_calls ?? []) textOf(t?.function?.arguments, out);
  }
  return out.join('');
}

/** Chat prompt text: every message's content (strings and text parts), plus a legacy `prompt`. */
export function chatPromptText(body: any): string {
  if (!body || typeof body !== 'object') return '';
  const out: string[] = [];
  for (const m of Array.isArray(body.messages) ? body.messages : []) textOf(m?.content, out);
  textOf(body.prompt, out);
  return out.join('\n');
}

/**
 * A chat-completions stream: `data: {chunk}` frames then `data: [DONE]`. Usage is in the chunk that has it (the
 * include_usage chunk with `choices: []`, Mistral's last chunk, Groq's `x_groq.usage`). When the gateway asked for
 * usage on the client's behalf, that extra chunk is kept from the client.
 */
export class ChatStreamMeter extends LazyStreamMeter {
  private hidden: Usage | null = null;
  constructor(private readonly hideUsageChunk: boolean) {
    super();
  }
  override onEvent(event: string | undefined, data: string): boolean {
    if (this.hideUsageChunk && data.includes('"choices":[]') && data.includes('"usage"')) {
      try {
        const chunk = JSON.parse(data);
        if (Array.isArray(chunk.choices) && chunk.choices.length === 0 && chunk.usage) {
          this.hidden = chatUsage(chunk.usage);
          return false;
        }
      } catch {
        /* not the usage chunk */
      }
    }
    return super.onEvent(event, data);
  }
  usage(): Usage | null {
    if (this.hidden) return this.hidden;
    // Usage is at the end: look from the last event back, parsing only those that mention it.
    for (let i = this.events.length - 1; i >= 0; i--) {
      const d = this.events[i].data;
      if (!d.includes('usage') || d.includes('"usage":null') && !d.includes('x_groq')) continue;
      try {
        const u = chatBodyUsage(JSON.parse(d));
        if (u) return u;
      } catch {
        /* cut */
      }
    }
    return null;
  }
  outputText(): string {
    const out: string[] = [];
    for (const { json } of this.parsed()) {
      for (const c of json.choices ?? []) {
        textOf(c?.delta?.content, out);
        for (const t of c?.delta?.tool_calls ?? []) textOf(t?.function?.arguments, out);
      }
    }
    return out.join('');
  }
}

/** Rewrites a streaming chat body to ask for usage; says whether the client had not asked (so the chunk is hidden). */
export function withIncludeUsage(body: any): { body: any; hide: boolean } {
  if (!body?.stream || body.stream_options?.include_usage === true) return { body: undefined, hide: false };
  return { body: { ...body, stream_options: { ...(body.stream_options ?? {}), include_usage: true } }, hide: true };
}

/** OpenAI's error shape (`{"error":{message,type,param,code}}`), also used by Groq and the Hugging Face router. */
export function openAiError(kind: string, message: string): unknown {
  switch (kind) {
    case 'rate_limit':
      return { error: { message, type: 'usage_limit_exceeded', param: null, code: 'rate_limit_exceeded' } };
    case 'auth':
      return { error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } };
    case 'forbidden':
      return { error: { message, type: 'invalid_request_error', param: null, code: 'forbidden' } };
    case 'bad_request':
      return { error: { message, type: 'invalid_request_error', param: null, code: null } };
    default:
      return { error: { message, type: 'server_error', param: null, code: 'bad_gateway' } };
  }
}
