import type { ProviderId } from '../../shell';
import type { UsageVector } from '../../metering';
import type { MatchedOperation, OperationSpec } from '../operations';

/**
 * What a provider reported a call used (absent fields are 0); `unit_key` when the units are priced by another key
 * than the call's own, `usage_id` when the record takes an id of its own (an async job's start).
 */
export type Usage = Partial<UsageVector> & { unit_key?: string; usage_id?: string };

/** Why the gateway answers a call itself, in the provider's own error shape. */
export type GatewayErrorKind = 'rate_limit' | 'auth' | 'bad_request' | 'forbidden' | 'upstream';

/** The call as the gateway sees it before forwarding. `path` is the provider's own path (after /proxy/{provider}). */
export interface CallRequest {
  method: string;
  path: string;
  /** The raw query string without `?` ('' when none). */
  query: string;
  /** The parsed JSON body, or undefined (no body, not JSON, multipart). */
  body: any;
  /** The body's bytes as received. */
  rawBody?: Buffer;
  /** The operation the gateway matched the call to (from the adapter's `operations`), before describe runs. */
  operation?: MatchedOperation;
}

export interface CallDescription {
  operation: string;
  model: string;
  /** The client asked for a streamed answer. */
  streaming: boolean;
  /** The prompt's text, for counting input tokens before the call (empty for unit-billed providers). */
  promptText: string;
  /** Units the call will use, known before it runs (one search, one image), or their worst case (a crawl's page limit). */
  units: number;
  /**
   * The most output tokens the call may generate, as its request states (`max_tokens`...); null when it generates
   * tokens but states no maximum (admission takes the model's); undefined when it generates none. Reserved on admission.
   */
  maxOutputTokens?: number | null;
  /** The catalog key its units are priced by when not the model's own price (`image/dall-e-3/hd/1024x1792`, `web_search`). */
  unitKey?: string;
  /** Not a billable call (a crawl's status poll): forwarded without a limit check, recorded only if it reports usage. */
  free: boolean;
  /** A record id of its own (a crawl's result is recorded once, whichever poll sees it). */
  usageId?: string;
  /** A poll that settles an async job recorded at its worst case (usageId is the job's): see MeteringFacade.settleJob. */
  settlesJob?: boolean;
  /** The body to forward instead of the client's bytes (include_usage injected, a key removed). */
  rewrittenBody?: any;
  /** The stream will carry a usage chunk the client did not ask for: keep it from the client. */
  hideUsageChunk: boolean;
}

/** Reads usage from an SSE stream as it passes; may hold back an event the client must not see. */
export interface StreamMeter {
  /** One SSE event (its `event:` name, if any, and its joined `data:`). Returns false to keep it from the client. */
  onEvent(event: string | undefined, data: string): boolean;
  /** What the stream reported, or null when it reported nothing (cut, failed). */
  usage(): Usage | null;
  /** The text generated so far, for an estimate when usage is missing. */
  outputText(): string;
}

/** Everything the gateway needs to know about one provider's wire format. One implementation per file. */
export interface ProviderAdapter {
  readonly id: ProviderId;
  /**
   * The operations Tollgate can meter for this provider: the only calls forwarded (matched before describe). A call
   * to any other method and path is answered 404 in the provider's error shape and never reaches the provider.
   */
  readonly operations: readonly OperationSpec[];
  /** Recognises the call: operation, model (body or URL), streaming, prompt text, units, body rewrites. */
  describe(req: CallRequest): CallDescription;
  /** Puts the upstream key where this provider reads it (after the gateway removed every key header). */
  setKey(headers: Record<string, string>, key: string): void;
  /** Usage from a complete (non-streamed) response body; null when it reports none. */
  usageFromBody(body: any, call: CallDescription, status: number): Usage | null;
  /** Usage known from the response headers alone (an image returned as bytes); null when unknown. */
  usageFromHeaders?(headers: Record<string, string | string[] | undefined>, call: CallDescription, status: number): Usage | null;
  /** Generated text in a complete body, for an estimate when the body has no usage. */
  outputTextFromBody?(body: any): string;
  streamMeter(call: CallDescription): StreamMeter;
  /** The provider's own error body for an answer the gateway gives itself (a refusal is `rate_limit`, status 429). */
  errorBody(kind: GatewayErrorKind, status: number, message: string, retryAfterSeconds?: number): unknown;
}

export function describeCall(partial: Partial<CallDescription> & { operation: string; model: string }): CallDescription {
  return { streaming: false, promptText: '', units: 0, free: false, hideUsageChunk: false, ...partial };
}

export const bearer = (headers: Record<string, string>, key: string) => {
  headers.authorization = `Bearer ${key}`;
};

export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** Joins the text of message-like values: strings, `{content}`, `{text}`, arrays of parts. Bounded by the input. */
export function textOf(v: unknown, out: string[] = []): string[] {
  if (v == null) return out;
  if (typeof v === 'string') {
    out.push(v);
  } else if (Array.isArray(v)) {
    for (const x of v) textOf(x, out);
  } else if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.text === 'string') out.push(o.text);
    if (o.content !== undefined) textOf(o.content, out);
    if (o.parts !== undefined) textOf(o.parts, out);
    if (typeof o.input === 'string') out.push(o.input);
    if (o.arguments !== undefined && typeof o.arguments === 'string') out.push(o.arguments);
  }
  return out;
}

/** A StreamMeter that keeps the raw data of every event and parses only at the end (no work per chunk). */
export abstract class LazyStreamMeter implements StreamMeter {
  protected readonly events: { event: string | undefined; data: string }[] = [];
  private size = 0;
  onEvent(event: string | undefined, data: string): boolean {
    // Bounded: an endless stream keeps its last events, which is where usage is.
    this.size += data.length;
    this.events.push({ event, data });
    if (this.size > 8 * 1024 * 1024) this.size -= this.events.shift()!.data.length;
    return true;
  }
  abstract usage(): Usage | null;
  abstract outputText(): string;
  protected parsed(): { event: string | undefined; json: any }[] {
    const out: { event: string | undefined; json: any }[] = [];
    for (const e of this.events) {
      if (!e.data || e.data[0] !== '{') continue;
      try {
        out.push({ event: e.event, json: JSON.parse(e.data) });
      } catch {
        /* a cut event */
      }
    }
    return out;
  }
}

/** The parsed body's `model`, or '' when none. */
export const bodyModel = (body: any): string => (body && typeof body.model === 'string' ? body.model : '');
