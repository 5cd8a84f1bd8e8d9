import * as http from 'http';
import { AddressInfo } from 'net';
import { ANSWERS, FakeKind } from './provider-answers';

/** What the fake received. */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
  json: any;
}

/** A failure the next calls meet: an error status (in the provider's error shape), or a stream cut after some events. */
export type FakeFault = { status: number } | { cut: true };

/** What a handler gets to answer with. */
export interface FakeExchange {
  req: FakeRequest;
  res: http.ServerResponse;
  fake: FakeProvider;
  /** Writes a JSON answer. */
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Writes SSE frames (each a complete `event:`/`data:` block), pausing `gapMs` between them; cuts the socket when `cut`. */
  sse(frames: string[], options?: { cut?: boolean }): Promise<void>;
}

/**
 * A loopback fake of one provider's HTTP API, answering in the provider's real format (non-streamed and SSE streamed,
 * usage fields included). Faults on demand: `fail(status)` answers the next call with the provider's error,
 * `cutNext()` cuts the next stream after its first events. Counts every hit (to prove SDKs did not retry).
 */
export class FakeProvider {
  readonly requests: FakeRequest[] = [];
  hits = 0;
  /** Delay before answering (ms). */
  delayMs = 0;
  /** Pause between stream events (ms). */
  gapMs = 0;
  /** Keep each request (off for benchmarks). */
  keepRequests = true;
  /** Headers added to every answer (a provider's account headers, cookies: what the gateway must not pass on). */
  responseHeaders: Record<string, string | string[]> = {};
  /** The usage an OpenAI-shaped chat answer reports, from the request (default FAKE_USAGE.openaiChat). */
  chatUsage: ((body: any) => { prompt_tokens: number; completion_tokens: number; cached?: number; reasoning?: number }) | null = null;
  private faults: FakeFault[] = [];
  private server!: http.Server;
  url = '';

  constructor(readonly kind: FakeKind) {}

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` calls answer `status` in the provider's error shape. */
  fail(status: number, times = 1): this {
    for (let i = 0; i < times; i++) this.faults.push({ status });
    return this;
  }

  /** The next streamed call is cut after its first events (the socket is destroyed, no terminal event). */
  cutNext(): this {
    this.faults.push({ cut: true });
    return this;
  }

  get last(): FakeRequest {
    return this.requests[this.requests.length - 1];
  }

  reset(): void {
    this.requests.length = 0;
    this.hits = 0;
    this.faults = [];
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.hits++;
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      let json: any;
      if (raw.length && /json/.test(String(req.headers['content-type'] ?? ''))) {
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          json = undefined;
        }
      }
      const fr: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, raw, json };
      if (this.keepRequests) this.requests.push(fr);
      const fault = this.faults.shift();
      const go = () => this.answer(fr, res, fault);
      if (this.delayMs > 0) setTimeout(go, this.delayMs);
      else go();
    });
  }

  private answer(req: FakeRequest, res: http.ServerResponse, fault: FakeFault | undefined): void {
    const kind = ANSWERS[this.kind];
    const fake = this;
    const ex: FakeExchange = {
      req,
      res,
      fake: this,
      json(status, body, headers = {}) {
        const extra = fake.responseHeaders;
        const text = JSON.stringify(body);
        res.writeHead(status, { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
        res.end(text);
      },
      sse: async (frames, options = {}) => {
        res.writeHead(200, { ...this.responseHeaders, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const upTo = options.cut ? Math.min(2, frames.length) : frames.length;
        for (let i = 0; i < upTo; i++) {
          res.write(frames[i]);
          if (this.gapMs > 0) await new Promise((r) => setTimeout(r, this.gapMs));
        }
        if (options.cut) {
          // Let the first events reach the client, then drop the connection mid-stream.
          await new Promise((r) => setTimeout(r, 20));
          res.socket?.destroy();
          return;
        }
        res.end();
      },
    };
    if (fault && 'status' in fault) {
      ex.json(fault.status, kind.error(fault.status), fault.status === 429 ? { 'retry-after': '1' } : {});
      return;
    }
    try {
      void Promise.resolve(kind.answer(ex, { cut: !!fault && 'cut' in fault })).catch(() => res.destroy());
    } catch {
      res.destroy();
    }
  }
}

export async function startFake(kind: FakeKind): Promise<FakeProvider> {
  return new FakeProvider(kind).start();
}
