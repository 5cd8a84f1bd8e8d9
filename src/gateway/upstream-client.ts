import { EventEmitter } from 'events';
import { Dispatcher, Pool } from 'undici';

/**
 * Cancels an upstream request when the client goes away: undici takes an EventEmitter that emits 'abort' as a signal.
 * One per call, so it is a plain emitter (an AbortController costs about 2 µs to make, and more to listen to).
 */
export class CallAbort extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** Errors that mean the request never reached the provider's application: safe to try once more. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface UpstreamRequest {
  method: string;
  /** Path and query relative to the upstream base URL. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  signal?: CallAbort | AbortSignal;
  /** Longest wait for the response headers, then between two body chunks (ms); the pool's defaults otherwise. */
  timeoutMs?: number;
}

/**
 * One pooled keep-alive connection pool per upstream origin (undici's request API: no fetch, no web streams).
 * A connection failure before any response is retried once; nothing else is retried.
 */
export class UpstreamClient {
  private readonly pools = new Map<string, { pool: Pool; basePath: string }>();

  constructor(private readonly options: { connections?: number; headersTimeout?: number; bodyTimeout?: number } = {}) {}

  async request(baseUrl: string, req: UpstreamRequest): Promise<Dispatcher.ResponseData> {
    const target = this.target(baseUrl);
    const opts: Dispatcher.RequestOptions = {
      method: req.method as Dispatcher.HttpMethod,
      path: target.basePath + req.path,
      headers: req.headers,
      body: req.body && req.body.length ? req.body : undefined,
      signal: req.signal,
      ...(req.timeoutMs ? { headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs } : {}),
    };
    try {
      return await target.pool.request(opts);
    } catch (err) {
      if (!isConnectFailure(err) || req.signal?.aborted) throw err;
      return target.pool.request(opts);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.pool.destroy().catch(() => undefined)));
    this.pools.clear();
  }

  private target(baseUrl: string) {
    let t = this.pools.get(baseUrl);
    if (!t) {
      const u = new URL(baseUrl);
      t = {
        pool: new Pool(u.origin, {
          connections: this.options.connections ?? 256,
          pipelining: 1,
          keepAliveTimeout: 30_000,
          keepAliveMaxTimeout: 600_000,
          // LLM calls can take minutes before the first byte and between stream events.
          headersTimeout: this.options.headersTimeout ?? 600_000,
          bodyTimeout: this.options.bodyTimeout ?? 600_000,
        }),
        basePath: u.pathname.replace(/\/+$/, ''),
      };
      this.pools.set(baseUrl, t);
    }
    return t;
  }
}

/** The provider accepted the request but sent no response headers in time. */
export function isHeadersTimeout(err: unknown): boolean {
  return (err as { code?: string })?.code === 'UND_ERR_HEADERS_TIMEOUT';
}

export function isConnectFailure(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return CONNECT_ERRORS.has(e?.code ?? '') || CONNECT_ERRORS.has(e?.cause?.code ?? '');
}
