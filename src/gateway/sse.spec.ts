import { SseSplitter, SseEvent } from './sse';
import { forwardHeaders, forwardQuery, presentedKeys } from './credentials';

const split = (chunks: string[]) => {
  const s = new SseSplitter();
  const out: SseEvent[] = [];
  for (const c of chunks) s.push(Buffer.from(c), (e) => out.push(e));
  return { out, tail: s.flush() };
};

describe('SseSplitter', () => {
  it('gives whole events whatever the chunking, with event names and multi-line data', () => {
    const text = 'event: a\ndata: {"x":1}\n\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, text.length]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const { out, tail } = split(chunks);
      expect(out.map((e) => [e.event, e.data])).toEqual([['a', '{"x":1}'], [undefined, 'line1\nline2'], [undefined, '[DONE]']]);
      expect(out.map((e) => e.raw).join('')).toBe(text);
      expect(tail).toBeNull();
    }
  });

  it('handles CRLF line ends and returns a cut event as the tail', () => {
    const { out, tail } = split(['data: 1\r\n\r\ndata: {"cut', '":']);
    expect(out.map((e) => e.data)).toEqual(['1']);
    expect(tail?.data).toBe('{"cut":');
  });

  it('keeps a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('data: héllo\n\n');
    const s = new SseSplitter();
    const out: string[] = [];
    for (const b of bytes) s.push(Buffer.from([b]), (e) => out.push(e.data));
    expect(out).toEqual(['héllo']);
  });
});

describe('Keys and forwarded headers', () => {
  it('finds the Tollgate key wherever an SDK puts it, and tells a real provider key apart', () => {
    expect(presentedKeys({ authorization: 'Bearer tg_a' }, '', undefined)).toEqual({ tollgateKey: 'tg_a', providerKey: null });
    expect(presentedKeys({ 'x-api-key': 'tg_b' }, '', undefined).tollgateKey).toBe('tg_b');
    expect(presentedKeys({ 'x-goog-api-key': 'tg_c' }, '', undefined).tollgateKey).toBe('tg_c');
    expect(presentedKeys({}, 'alt=sse&key=tg_d', undefined).tollgateKey).toBe('tg_d');
    expect(presentedKeys({}, '', { api_key: 'tg_e' }).tollgateKey).toBe('tg_e');
    expect(presentedKeys({ 'x-tollgate-key': 'tg_f', authorization: 'Bearer sk-real' }, '', undefined)).toEqual({ tollgateKey: 'tg_f', providerKey: 'sk-real' });
  });

  it('forwards no key, no hop-by-hop header and nothing of Tollgate\'s own; strips ?key=', () => {
    const h = forwardHeaders({ authorization: 'Bearer tg_a', 'x-api-key': 'k', 'x-goog-api-key': 'k', 'x-tollgate-key': 'tg', 'x-tollgate-user': 'u', connection: 'keep-alive', host: 'h', 'content-length': '5', 'anthropic-version': '2023-06-01', 'accept-encoding': 'gzip' });
    expect(h).toEqual({ 'anthropic-version': '2023-06-01', 'accept-encoding': 'identity' });
    expect(forwardQuery('alt=sse&key=tg_x')).toBe('alt=sse');
    expect(forwardQuery('alt=sse')).toBe('alt=sse');
  });
});
