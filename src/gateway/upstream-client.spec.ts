import * as http from 'http';
import type { IncomingHttpHeaders } from 'http';
import { AddressInfo } from 'net';
import { UpstreamClient, UpstreamSink } from './upstream-client';

/** What a sink saw, in order, and a promise for the end of the exchange. */
function recorder(options: { pauseFirstChunk?: boolean } = {}) {
  const seen: string[] = [];
  let resume: (() => void) | null = null;
  let status = 0;
  let headers: IncomingHttpHeaders = {};
  let error: Error | null = null;
  let responded: boolean | null = null;
  let chunks = 0;
  let finish!: () => void;
  const ended = new Promise<void>((r) => (finish = r));
  const sink: UpstreamSink = {
    onResponse(s, h, r) {
      status = s;
      headers = h;
      resume = r;
      seen.push('response');
    },
    onData(chunk) {
      seen.push(`data:${chunk.toString()}`);
      return !(options.pauseFirstChunk && ++chunks === 1);
    },
    onEnd() {
      seen.push('end');
      finish();
    },
    onError(err, r) {
      error = err;
      responded = r;
      seen.push('error');
      finish();
    },
  };
  return { sink, seen, ended, get: () => ({ status, headers, error: error as Error | null, responded, resume: resume! }) };
}

describe('UpstreamClient: one exchange with a provider over a pooled keep-alive connection', () => {
  let server: http.Server;
  let url = '';
  let hits = 0;
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
  const client = new UpstreamClient();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      handle(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  });
  beforeEach(() => (hits = 0));
  afterAll(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const post = (sink: UpstreamSink) => client.exchange(url, { method: 'POST', path: '/v1/x?a=1', headers: { 'content-type': 'application/json', 'content-length': '2' }, body: Buffer.from('{}') }, sink);

  it('given an answer, relays its status, headers and chunks as they arrive, then the end, on the base URL\'s path', async () => {
    let path = '';
    handle = (req, res) => {
      path = req.url!;
      res.writeHead(201, { 'content-type': 'text/plain', 'x-provider': 'p' });
      res.write('one');
      setTimeout(() => res.end('two'), 20);
    };
    const r = recorder();
    post(r.sink);
    await r.ended;
    expect(path).toBe('/base/v1/x?a=1');
    expect(r.get().status).toBe(201);
    expect(r.get().headers['x-provider']).toBe('p');
    expect(r.seen).toEqual(['response', 'data:one', 'data:two', 'end']);
  });

  it('given a connection reset before any byte, tries once more, and the second try answers', async () => {
    handle = (req, res) => (hits === 1 ? req.socket.destroy() : res.end('ok'));
    const r = recorder();
    post(r.sink);
    await r.ended;
    expect(hits).toBe(2);
    expect(r.seen).toEqual(['response', 'data:ok', 'end']);
  });

  it('given a reset on both tries, fails before any response after exactly two tries', async () => {
    handle = (req) => req.socket.destroy();
    const r = recorder();
    post(r.sink);
    await r.ended;
    expect(hits).toBe(2);
    expect(r.seen).toEqual(['error']);
    expect(r.get().responded).toBe(false);
  });

  it('given a provider error status, relays it as an answer and does not retry', async () => {
    handle = (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"boom"}');
    };
    const r = recorder();
    post(r.sink);
    await r.ended;
    expect(hits).toBe(1);
    expect(r.get().status).toBe(500);
    expect(r.seen).toEqual(['response', 'data:{"error":"boom"}', 'end']);
  });

  it('given an answer cut midway, fails after the response began (responded), without retrying', async () => {
    handle = (req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      setTimeout(() => req.socket.destroy(), 20);
    };
    const r = recorder();
    post(r.sink);
    await r.ended;
    expect(hits).toBe(1);
    expect(r.seen).toEqual(['response', 'data:data: 1\n\n', 'error']);
    expect(r.get().responded).toBe(true);
  });

  it('when aborted (the client went away) before the answer, fails with an AbortError and closes the upstream request', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((r) => (closed = r));
    handle = (_req, res) => res.once('close', closed);
    const r = recorder();
    const exchange = post(r.sink);
    await new Promise((res) => setTimeout(res, 30));
    exchange.abort();
    await r.ended;
    await upstreamClosed;
    expect(r.get().error?.name).toBe('AbortError');
    expect(r.get().responded).toBe(false);
    expect(hits).toBe(1);
  });

  it('when aborted before the request was written, fails with an AbortError and the provider never sees it', async () => {
    handle = (_req, res) => res.end('late');
    const r = recorder();
    post(r.sink).abort();
    await r.ended;
    expect(r.get().error?.name).toBe('AbortError');
    expect(r.seen).toEqual(['error']);
    await new Promise((res) => setTimeout(res, 30));
    expect(hits).toBe(0);
  });

  it('when the sink asks to pause, reads nothing more from the provider until resumed', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      setTimeout(() => res.end('second'), 20);
    };
    const r = recorder({ pauseFirstChunk: true });
    post(r.sink);
    await new Promise((res) => setTimeout(res, 150));
    expect(r.seen).toEqual(['response', 'data:first']);
    r.get().resume();
    await r.ended;
    expect(r.seen).toEqual(['response', 'data:first', 'data:second', 'end']);
  });
});
