/**
 * A loopback provider for the drills that answers like OpenAI, Anthropic or Gemini and misbehaves on request. The
 * behaviour comes from the `x-drill-mode` request header, else from the first message's text `mode:<name>` (the body
 * is forwarded byte for byte, so this survives any header filtering):
 *
 * ok (default) | stream | slowstream (a chunk every 200 ms, 50 chunks) | delay:<ms> | timeout (never answers) |
 * reset (destroys the socket before any byte) | 500 | 529 | cut (a 200 stream cut after two chunks) |
 * canary-error (a 500 whose body carries `errorCanary`).
 *
 * Every request is remembered (method, url, headers, body) up to `keep` requests.
 */
import * as http from 'http';
import { AddressInfo } from 'net';

export const USAGE = { prompt_tokens: 11, completion_tokens: 7 };

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class FaultUpstream {
  readonly seen: SeenRequest[] = [];
  private server!: http.Server;
  private readonly open = new Set<import('net').Socket>();
  private readonly hanging = new Set<http.ServerResponse>();
  url = '';
  /** Counts by mode. */
  readonly counts: Record<string, number> = {};

  constructor(private readonly options: { errorCanary?: string; keep?: number; defaultDelayMs?: number } = {}) {}

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (s) => {
      this.open.add(s);
      s.on('close', () => this.open.delete(s));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (this.seen.length < (this.options.keep ?? 2000)) this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      let json: any = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* not JSON */
      }
      const mode = String(req.headers['x-drill-mode'] ?? modeFromBody(json) ?? 'ok');
      this.counts[mode.split(':')[0]] = (this.counts[mode.split(':')[0]] ?? 0) + 1;
      const url = req.url ?? '';
      const provider = url.includes(':generateContent') || url.includes(':streamGenerateContent') ? 'gemini' : url.startsWith('/v1/messages') ? 'anthropic' : 'openai';
      const model = provider === 'gemini' ? (/models\/([^:]+):/.exec(url)?.[1] ?? 'gemini-2.5-flash') : String(json?.model ?? 'gpt-4');
      const wantsStream = json?.stream === true || url.includes(':streamGenerateContent') || mode === 'stream' || mode === 'slowstream' || mode === 'cut';
      this.respond(provider, model, mode, wantsStream, json, req, res);
    });
  }

  private respond(provider: string, model: string, mode: string, stream: boolean, json: any, req: http.IncomingMessage, res: http.ServerResponse): void {
    const delay = mode.startsWith('delay:') ? Number(mode.slice(6)) : (this.options.defaultDelayMs ?? 0);
    const after = (ms: number, fn: () => void): void => {
      if (ms > 0) setTimeout(fn, ms);
      else fn();
    };
    switch (mode) {
      case 'timeout':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case '500':
        return sendJson(res, 500, errorBody(provider, 500, 'The server had an error while processing your request.'));
      case '529':
        return sendJson(res, 529, errorBody(provider, 529, 'Overloaded'));
      case 'canary-error':
        return sendJson(res, 500, errorBody(provider, 500, `upstream failure, debug token ${this.options.errorCanary ?? 'none'}`));
    }
    if (!stream) return after(delay, () => sendJson(res, 200, okBody(provider, model)));
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const frames = streamFrames(provider, model, mode === 'slowstream' ? 50 : 3, json?.stream_options?.include_usage === true);
    const interval = mode === 'slowstream' ? 200 : 1;
    let i = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (mode === 'cut' && i === 2) {
        req.socket.destroy();
        return;
      }
      if (i >= frames.length) {
        res.end();
        return;
      }
      res.write(frames[i++]);
      setTimeout(tick, interval);
    };
    after(delay, tick);
  }
}

function modeFromBody(json: any): string | null {
  const first = json?.messages?.[0]?.content ?? json?.contents?.[0]?.parts?.[0]?.text;
  const text = typeof first === 'string' ? first : Array.isArray(first) ? first[0]?.text : null;
  const m = typeof text === 'string' ? /^mode:(\S+)/.exec(text) : null;
  return m ? m[1] : null;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function errorBody(provider: string, status: number, message: string): unknown {
  if (provider === 'anthropic') return { type: 'error', error: { type: status === 529 ? 'overloaded_error' : 'api_error', message }, request_id: 'req_drill' };
  if (provider === 'gemini') return { error: { code: status, message, status: status === 529 ? 'UNAVAILABLE' : 'INTERNAL' } };
  return { error: { message, type: 'server_error', param: null, code: null } };
}

function okBody(provider: string, model: string): unknown {
  const { prompt_tokens, completion_tokens } = USAGE;
  if (provider === 'anthropic')
    return {
      id: 'msg_drill',
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: prompt_tokens, output_tokens: completion_tokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
  if (provider === 'gemini')
    return {
      candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: prompt_tokens, candidatesTokenCount: completion_tokens, totalTokenCount: prompt_tokens + completion_tokens },
      modelVersion: model,
    };
  return {
    id: 'chatcmpl-drill',
    object: 'chat.completion',
    created: 1741600000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
  };
}

function streamFrames(provider: string, model: string, n: number, includeUsage: boolean): string[] {
  const { prompt_tokens, completion_tokens } = USAGE;
  const out: string[] = [];
  if (provider === 'anthropic') {
    out.push(`event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_drill', type: 'message', role: 'assistant', model, content: [], usage: { input_tokens: prompt_tokens, output_tokens: 1 } } })}\n\n`);
    for (let i = 0; i < n; i++) out.push(`event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } })}\n\n`);
    out.push(`event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: completion_tokens } })}\n\n`);
    out.push(`event: message_stop\ndata: {"type":"message_stop"}\n\n`);
    return out;
  }
  if (provider === 'gemini') {
    for (let i = 0; i < n; i++)
      out.push(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] } }], usageMetadata: { promptTokenCount: prompt_tokens, candidatesTokenCount: i + 1, totalTokenCount: prompt_tokens + i + 1 } })}\r\n\r\n`);
    out.push(`data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: prompt_tokens, candidatesTokenCount: completion_tokens, totalTokenCount: prompt_tokens + completion_tokens } })}\r\n\r\n`);
    return out;
  }
  for (let i = 0; i < n; i++)
    out.push(`data: ${JSON.stringify({ id: 'chatcmpl-drill', object: 'chat.completion.chunk', created: 1741600000, model, choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }], usage: null })}\n\n`);
  out.push(`data: ${JSON.stringify({ id: 'chatcmpl-drill', object: 'chat.completion.chunk', created: 1741600000, model, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: null })}\n\n`);
  if (includeUsage)
    out.push(`data: ${JSON.stringify({ id: 'chatcmpl-drill', object: 'chat.completion.chunk', created: 1741600000, model, choices: [], usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens } })}\n\n`);
  out.push('data: [DONE]\n\n');
  return out;
}
