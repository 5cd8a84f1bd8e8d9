import { request } from 'undici';
import { FakeProvider, startFake } from '../../../test/fakes/fake-provider';
import { FAKE_USAGE, FakeKind } from '../../../test/fakes/provider-answers';
import { SseSplitter } from '../sse';
import { providerFor, PROVIDERS } from '.';
import type { ProviderAdapter } from '.';

/** Calls a fake the way the gateway forwards (rewritten body), and reads the answer the way the gateway taps it. */
async function exchange(kind: FakeKind, method: string, path: string, body: any, headers: Record<string, string> = {}) {
  const fake = fakes[kind];
  const adapter = providerFor(kind)!;
  const [p, q = ''] = path.split('?');
  const call = adapter.describe({ method, path: p, query: q, body });
  const sent = call.rewrittenBody ?? body;
  const res = await request(fake.url + path, { method: method as any, headers: { 'content-type': 'application/json', ...headers }, body: sent === undefined ? undefined : JSON.stringify(sent) });
  const ct = String(res.headers['content-type']);
  if (ct.includes('event-stream')) {
    const meter = adapter.streamMeter(call);
    const splitter = new SseSplitter();
    const passed: string[] = [];
    // Byte by byte: events split across chunks must come out whole.
    for await (const chunk of res.body) for (const b of chunk as Buffer) splitter.push(Buffer.from([b]), (e) => meter.onEvent(e.event, e.data) && passed.push(e.data));
    return { call, status: res.statusCode, usage: meter.usage(), passed, text: meter.outputText() };
  }
  const buf = Buffer.from(await res.body.arrayBuffer());
  const json = ct.includes('json') ? JSON.parse(buf.toString()) : undefined;
  return { call, status: res.statusCode, usage: json !== undefined ? adapter.usageFromBody(json, call, res.statusCode) : adapter.usageFromHeaders!(res.headers, call, res.statusCode), passed: [], text: json && adapter.outputTextFromBody ? adapter.outputTextFromBody(json) : '' };
}

const fakes = {} as Record<FakeKind, FakeProvider>;
beforeAll(async () => {
  for (const k of Object.keys(PROVIDERS) as FakeKind[]) fakes[k] = await startFake(k);
});
afterAll(async () => {
  for (const f of Object.values(fakes)) await f.stop();
});

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Say hello' }] }] };

describe('OpenAI', () => {
  const u = FAKE_USAGE.openaiChat;
  const expected = { input_tokens: u.prompt_tokens, output_tokens: u.completion_tokens, cache_read_tokens: u.cached, cache_write_tokens: 0, reasoning_tokens: u.reasoning };

  it('describes a chat call: model from the body, the prompt text from every message', () => {
    const call = PROVIDERS.openai.describe({ method: 'POST', path: '/v1/chat/completions', query: '', body: chat });
    expect(call).toMatchObject({ operation: 'chat', model: 'gpt-4o-mini', streaming: false, promptText: 'Be brief.\nSay hello', hideUsageChunk: false });
    expect(call.rewrittenBody).toBeUndefined();
  });

  it('reads chat usage from the body (cached and reasoning tokens from the details)', async () => {
    const r = await exchange('openai', 'POST', '/v1/chat/completions', chat);
    expect(r.usage).toEqual(expected);
    expect(r.text).toBe('Hello from the fake.');
  });

  it('asks for usage on a stream the client did not ask it for, and keeps that chunk from the client', async () => {
    const r = await exchange('openai', 'POST', '/v1/chat/completions', { ...chat, stream: true });
    expect(r.call.rewrittenBody.stream_options).toEqual({ include_usage: true });
    expect(r.call.hideUsageChunk).toBe(true);
    expect(fakes.openai.last.json.stream_options).toEqual({ include_usage: true });
    expect(r.usage).toEqual(expected);
    expect(r.passed.some((d) => d.includes('"choices":[]'))).toBe(false);
    expect(r.passed[r.passed.length - 1]).toBe('[DONE]');
    expect(r.text).toBe('Hello from the fake.');
  });

  it('passes the usage chunk to a client that asked for it', async () => {
    const r = await exchange('openai', 'POST', '/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(r.call.rewrittenBody).toBeUndefined();
    expect(r.usage).toEqual(expected);
    expect(r.passed.filter((d) => d.includes('"choices":[]'))).toHaveLength(1);
  });

  it('reads the Responses API usage, plain and streamed (response.completed)', async () => {
    const ru = FAKE_USAGE.openaiResponses;
    const want = { input_tokens: ru.input_tokens, output_tokens: ru.output_tokens, cache_read_tokens: 0, reasoning_tokens: 0 };
    const plain = await exchange('openai', 'POST', '/v1/responses', { model: 'gpt-4o', input: 'Hi' });
    expect(plain.call).toMatchObject({ operation: 'responses', promptText: 'Hi' });
    expect(plain.usage).toEqual(want);
    const streamed = await exchange('openai', 'POST', '/v1/responses', { model: 'gpt-4o', input: 'Hi', stream: true });
    expect(streamed.usage).toEqual(want);
    expect(streamed.text).toBe('Hello from the fake.');
  });

  it('reads embeddings usage', async () => {
    const r = await exchange('openai', 'POST', '/v1/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(r.call).toMatchObject({ operation: 'embeddings', promptText: 'a\nb' });
    expect(r.usage).toMatchObject({ input_tokens: FAKE_USAGE.openaiEmbeddings.prompt_tokens, output_tokens: 0 });
  });

  it('answers a refusal in OpenAI\'s error shape', () => {
    expect(PROVIDERS.openai.errorBody('rate_limit', 429, 'Usage limit reached')).toEqual({ error: { message: 'Usage limit reached', type: 'usage_limit_exceeded', param: null, code: 'rate_limit_exceeded' } });
  });
});

describe('Anthropic', () => {
  const u = FAKE_USAGE.anthropic;
  // input_tokens excludes the cache counts: the whole prompt adds them back.
  const expected = { input_tokens: u.input_tokens + u.cache_read + u.cache_write, output_tokens: u.output_tokens, cache_read_tokens: u.cache_read, cache_write_tokens: u.cache_write };
  const msg = { model: 'claude-3-5-haiku-latest', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Say hello' }] };

  it('reads usage from a message, cache counts added back into input', async () => {
    const r = await exchange('anthropic', 'POST', '/v1/messages', msg);
    expect(r.call).toMatchObject({ operation: 'messages', model: msg.model, promptText: 'Be brief.\nSay hello' });
    expect(r.usage).toEqual(expected);
  });

  it('reads a stream: message_start for input and cache, the last message_delta for output', async () => {
    const r = await exchange('anthropic', 'POST', '/v1/messages', { ...msg, stream: true });
    expect(r.usage).toEqual(expected);
    expect(r.text).toBe('Hello from the fake.');
  });

  it('treats count_tokens as free, and answers in the Anthropic error shape', () => {
    expect(PROVIDERS.anthropic.describe({ method: 'POST', path: '/v1/messages/count_tokens', query: '', body: msg }).free).toBe(true);
    expect(PROVIDERS.anthropic.errorBody('rate_limit', 429, 'm')).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'm' }, request_id: null });
  });
});

describe('Gemini', () => {
  const u = FAKE_USAGE.gemini;
  const expected = { input_tokens: u.prompt, output_tokens: u.candidates + u.thoughts, cache_read_tokens: 0, reasoning_tokens: u.thoughts };
  const body = { contents: [{ role: 'user', parts: [{ text: 'Say hello' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] } };

  it('takes the model from the URL path', () => {
    const call = PROVIDERS.gemini.describe({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash:streamGenerateContent', query: 'alt=sse', body });
    expect(call).toMatchObject({ operation: 'generate', model: 'gemini-2.5-flash', streaming: true, promptText: 'Be brief.\nSay hello' });
  });

  it('reads usageMetadata from a body, and the last (cumulative) one from a stream', async () => {
    expect((await exchange('gemini', 'POST', '/v1beta/models/gemini-2.5-flash:generateContent', body)).usage).toEqual(expected);
    const s = await exchange('gemini', 'POST', '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', body);
    expect(s.usage).toEqual(expected);
    expect(s.text).toBe('Hello from the fake.');
  });

  it('answers a refusal as RESOURCE_EXHAUSTED with a RetryInfo', () => {
    const b: any = PROVIDERS.gemini.errorBody('rate_limit', 429, 'm', 30);
    expect(b.error).toMatchObject({ code: 429, message: 'm', status: 'RESOURCE_EXHAUSTED' });
    expect(b.error.details[1]).toEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' });
  });
});

describe('Mistral and gpt-oss (Hugging Face router, Groq)', () => {
  it('reads Mistral usage from the last stream chunk, with nothing injected', async () => {
    const m = FAKE_USAGE.mistral;
    const r = await exchange('mistral', 'POST', '/v1/chat/completions', { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(r.call.rewrittenBody).toBeUndefined();
    expect(fakes.mistral.last.json.stream_options).toBeUndefined();
    expect(r.usage).toMatchObject({ input_tokens: m.prompt_tokens, output_tokens: m.completion_tokens });
  });

  it('drops the router suffix from the model and reads Groq\'s x_groq.usage', async () => {
    const h = FAKE_USAGE.huggingface;
    const r = await exchange('huggingface', 'POST', '/openai/v1/chat/completions', { model: 'openai/gpt-oss-120b:groq', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: false } });
    expect(r.call.model).toBe('openai/gpt-oss-120b');
    expect(r.usage).toMatchObject({ input_tokens: h.prompt_tokens, output_tokens: h.completion_tokens, reasoning_tokens: h.reasoning });
  });
});

describe('Search, scrape and image providers', () => {
  it('Tavily: injects include_usage, drops a body api_key, reads credits', async () => {
    const r = await exchange('tavily', 'POST', '/search', { query: 'q', search_depth: 'advanced', api_key: 'tg_x' });
    expect(r.call).toMatchObject({ operation: 'search', model: 'search', units: 2 });
    expect(fakes.tavily.last.json).toEqual({ query: 'q', search_depth: 'advanced', include_usage: true });
    expect(r.usage).toEqual({ units: FAKE_USAGE.tavilyCredits });
  });

  it('Serper: credits from the body; Exa: one search; Firecrawl: creditsUsed', async () => {
    expect((await exchange('serper', 'POST', '/search', { q: 'x' })).usage).toEqual({ units: FAKE_USAGE.serperCredits });
    expect((await exchange('exa', 'POST', '/search', { query: 'x' })).usage).toEqual({ units: 1 });
    expect((await exchange('firecrawl', 'POST', '/v2/scrape', { url: 'https://example.com' })).usage).toEqual({ units: FAKE_USAGE.firecrawlScrapeCredits });
  });

  it('Firecrawl: a crawl starts at its worst case under the crawl\'s own id; its credits are read once, at the terminal status', async () => {
    const start = await exchange('firecrawl', 'POST', '/v2/crawl', { url: 'https://example.com' });
    expect(start.call).toMatchObject({ operation: 'crawl', units: 10_000, unitKey: 'scrape' });
    expect(start.usage).toEqual({ units: 10_000, usage_id: 'firecrawl-crawl-crawl-fake-1' });
    const running = await exchange('firecrawl', 'GET', '/v2/crawl/crawl-fake-1', undefined);
    expect(running.call).toMatchObject({ free: true, usageId: 'firecrawl-crawl-crawl-fake-1', settlesJob: true });
    expect(running.usage).toBeNull();
    const done = await exchange('firecrawl', 'GET', '/v2/crawl/crawl-fake-1', undefined);
    expect(done.usage).toEqual({ units: FAKE_USAGE.firecrawlCrawlCredits });
  });

  it('Stability: one image per success, from the finish-reason header; the model from the path or sd3\'s form field', async () => {
    const r = await exchange('stability', 'POST', '/v2beta/stable-image/generate/core', undefined, { accept: 'image/*' });
    expect(r.call).toMatchObject({ operation: 'image', model: 'core', units: 1 });
    expect(r.usage).toEqual({ units: 1 });
    const form = Buffer.from('--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nsd3.5-medium\r\n--b--\r\n');
    expect(PROVIDERS.stability.describe({ method: 'POST', path: '/v2beta/stable-image/generate/sd3', query: '', body: undefined, rawBody: form }).model).toBe('sd3.5-medium');
    expect(PROVIDERS.stability.usageFromHeaders!({ 'finish-reason': 'CONTENT_FILTERED' }, r.call, 200)).toEqual({ units: 0 });
  });

  it('every provider answers a refusal in its own shape, carrying the message', () => {
    for (const a of Object.values(PROVIDERS) as ProviderAdapter[]) expect(JSON.stringify(a.errorBody('rate_limit', 429, 'Usage limit reached: x'))).toContain('Usage limit reached: x');
    expect(providerFor('metaphor')).toBe(PROVIDERS.exa);
    expect(providerFor('nope')).toBeUndefined();
  });
});

