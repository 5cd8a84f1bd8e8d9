import type { IncomingHttpHeaders } from 'http';
import { Dispatcher, Pool } from 'undici';

/** Errors that mean the request never reached the provider's application: safe to try once more. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface UpstreamRequest {
  method: string;
  /** Path and query relative to the upstream base URL. */
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Longest wait for the response headers, then between two body chunks (ms); the pool's defaults otherwise. */
  timeoutMs?: number;
}

/** Where an exchange delivers the provider's answer, as it arrives, on the socket's own read (no stream in between). */
export interface UpstreamSink {
  /** The status and headers (informational 1xx answers are skipped). `resume` restarts a body paused by onData. */
  onResponse(status: number, headers: IncomingHttpHeaders, resume: () => void): void;
  /** A body chunk. False pauses reading from the provider until `resume` is called. */
  onData(chunk: Buffer): boolean;
  /** The whole body arrived. */
  onEnd(): void;
  /**
   * The exchange failed: before any response (`responded` false: unreachable, timed out, or aborted; a connection
   * failure has been retried once by then), or while the body arrived (`responded` true: cut, timed out, aborted).
   */
  onError(err: Error, responded: boolean): void;
}

/** A call in progress: `abort()` cancels it (the client went away); the sink's onError follows unless it had ended. */
export interface UpstreamExchange {
  abort(): void;
}

/**
 * One pooled keep-alive connection pool per upstream origin. Calls go through undici's dispatch API: the answer's
 * headers and chunks reach the sink in the socket's read callback, with no Readable, promise or async scope per call
 * (undici's `request` API makes all three, on the path every proxied call waits on). A connection failure before any
 * response is retried once; nothing else is retried.
 */
export class UpstreamClient {
  private readonly pools = new Map<string, { pool: Pool; basePath: string }>();

  constructor(private readonly options: { connections?: number; headersTimeout?: number; bodyTimeout?: number } = {}) {}

  exchange(baseUrl: string, req: UpstreamRequest, sink: UpstreamSink): UpstreamExchange {
    const target = this.target(baseUrl);
    const opts: Dispatcher.DispatchOptions = {
      method: req.method as Dispatcher.HttpMethod,
      path: target.basePath + req.path,
      headers: req.headers,
      body: req.body && req.body.length ? req.body : undefined,
      ...(req.timeoutMs ? { headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs } : {}),
    };
    const handler = new ExchangeHandler(sink, () => target.pool.dispatch(opts, handler));
    target.pool.dispatch(opts, handler);
    return handler;
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

class AbortedError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  constructor() {
    super('The client went away.');
    this.name = 'AbortError';
  }
}

/** undici's handler for one exchange: passes the answer to the sink, retries a connection failure once. */
class ExchangeHandler implements Dispatcher.DispatchHandler, UpstreamExchange {
  private controller: Dispatcher.DispatchController | null = null;
  private aborted = false;
  private responded = false;
  private done = false;
  private retried = false;

  constructor(
    private readonly sink: UpstreamSink,
    private readonly retry: () => void,
  ) {}

  abort(): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    // Before onRequestStart there is nothing to abort yet: onRequestStart does it.
    this.controller?.abort(new AbortedError());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.aborted) controller.abort(new AbortedError());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.responded = true;
    this.sink.onResponse(statusCode, headers, () => controller.resume());
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.sink.onData(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.done = true;
    this.sink.onEnd();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    if (!this.responded && !this.aborted && !this.retried && isConnectFailure(err)) {
      this.retried = true;
      this.controller = null;
      this.retry();
      return;
    }
    this.done = true;
    this.sink.onError(this.aborted ? new AbortedError() : err, this.responded);
  }
}

/** The provider accepted the request but sent no response headers in time. */
export function isHeadersTimeout(err: unknown): boolean {
  return (err as { code?: string })?.code === 'UND_ERR_HEADERS_TIMEOUT';
}

function isConnectFailure(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  return CONNECT_ERRORS.has(e?.code ?? '') || CONNECT_ERRORS.has(e?.cause?.code ?? '');
}
