import * as http from 'http';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import type { TestApp } from '../support/test-app';

/** An answer to a raw HTTP request (no client normalises its path). */
export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** Sends a request with the path exactly as given (fetch and the SDKs would resolve dot segments first). */
export function rawRequest(base: string, method: string, path: string, o: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, headers: { ...(o.headers ?? {}), ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

/** The error shape each provider's SDK reads (PROVIDERS.md), as the gateway must answer it. */
export function expectProviderShape(provider: string, body: any): void {
  switch (provider) {
    case 'openai':
    case 'huggingface':
      expect(body).toMatchObject({ error: { message: expect.any(String), type: expect.any(String), param: null } });
      expect(Object.keys(body)).toEqual(['error']);
      return;
    case 'anthropic':
      expect(body).toEqual({ type: 'error', error: { type: expect.any(String), message: expect.any(String) }, request_id: null });
      return;
    case 'gemini':
      expect(body).toEqual({ error: { code: expect.any(Number), message: expect.any(String), status: expect.any(String), details: expect.any(Array) } });
      return;
    case 'mistral':
      expect(body).toMatchObject({ object: 'error', message: expect.any(String), type: expect.any(String) });
      return;
    case 'tavily':
      expect(body).toEqual({ detail: { error: expect.any(String) } });
      return;
    case 'serper':
      expect(body).toEqual({ message: expect.any(String), statusCode: expect.any(Number) });
      return;
    case 'exa':
      expect(body).toEqual({ error: expect.any(String) });
      return;
    case 'firecrawl':
      expect(body).toEqual({ success: false, error: expect.any(String) });
      return;
    case 'stability':
      expect(body).toEqual({ id: expect.any(String), name: expect.any(String), errors: [expect.any(String)] });
      return;
    default:
      throw new Error(`no shape for ${provider}`);
  }
}

/** Runs `f` and returns the events it appended (after every gateway call was recorded and projected). */
export async function appendedBy<T>(t: TestApp, f: () => Promise<T>): Promise<{ result: T; events: { type: string; data: any; streamId?: string }[] }> {
  const store = t.app.get<EventStore>(EVENT_STORE);
  await t.settle();
  const before = await store.headPosition();
  const result = await f();
  await t.settle();
  const events = (await store.readAll({ after: before, maxCount: 10_000 })) as any[];
  return { result, events };
}
