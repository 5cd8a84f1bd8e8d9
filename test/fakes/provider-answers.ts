import type { FakeExchange } from './fake-provider';

export type FakeKind = 'openai' | 'anthropic' | 'gemini' | 'mistral' | 'tavily' | 'serper' | 'exa' | 'firecrawl' | 'stability' | 'huggingface';

/** The usage each fake reports (tests compute the expected records and costs from these). */
export const FAKE_USAGE = {
  openaiChat: { prompt_tokens: 120, completion_tokens: 45, cached: 20, reasoning: 5 },
  openaiResponses: { input_tokens: 80, output_tokens: 30, cached: 0, reasoning: 0 },
  openaiEmbeddings: { prompt_tokens: 9 },
  anthropic: { input_tokens: 100, output_tokens: 40, cache_read: 30, cache_write: 10 },
  gemini: { prompt: 70, candidates: 25, cached: 0, thoughts: 5 },
  mistral: { prompt_tokens: 60, completion_tokens: 22 },
  huggingface: { prompt_tokens: 50, completion_tokens: 18, reasoning: 6 },
  tavilyCredits: 2,
  serperCredits: 1,
  firecrawlScrapeCredits: 1,
  firecrawlCrawlCredits: 7,
  firecrawlBatchCredits: 2,
  /** Searches a server tool runs when the request offers it (Anthropic web search, OpenAI Responses web search). */
  webSearches: 2,
  /** gpt-image-1's usage for one image (input: text and image tokens). */
  gptImage: { input_tokens: 50, text_tokens: 40, image_tokens: 10, output_tokens: 4160 },
} as const;

/** Multipart form fields (the fake reads `n` and `model` of an image edit the way the gateway does). */
const formField = (raw: Buffer, name: string): string | undefined => new RegExp(`name="${name}"\\r?\\n\\r?\\n([^\\r\\n]*)`).exec(raw.toString('latin1'))?.[1];
const offersTool = (b: any, prefix: string) => Array.isArray(b?.tools) && b.tools.some((t: any) => typeof t?.type === 'string' && t.type.startsWith(prefix));

const TEXT = ['Hello', ' from', ' the', ' fake', '.'];
const frame = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

interface KindAnswers {
  answer(ex: FakeExchange, o: { cut: boolean }): void | Promise<void>;
  error(status: number): unknown;
}

function openAiChat(ex: FakeExchange, o: { cut: boolean }, u: { prompt_tokens: number; completion_tokens: number; cached?: number; reasoning?: number }, groq = false) {
  const b = ex.req.json ?? {};
  const model = b.model ?? 'gpt-4o-mini';
  const usage = {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.prompt_tokens + u.completion_tokens,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning ?? 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
  if (!b.stream) {
    return ex.json(200, {
      id: 'chatcmpl-fake',
      object: 'chat.completion',
      created: 1741608000,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: TEXT.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage,
      system_fingerprint: 'fp_fake',
    });
  }
  const include = b.stream_options?.include_usage === true;
  const base = { id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1741608000, model, system_fingerprint: 'fp_fake' };
  const extra = include ? { usage: null } : {};
  const frames = [frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], ...extra })];
  for (const t of TEXT) frames.push(frame({ ...base, choices: [{ index: 0, delta: { content: t }, logprobs: null, finish_reason: null }], ...extra }));
  frames.push(frame({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], ...extra, ...(groq ? { x_groq: { id: 'req_fake', usage } } : {}) }));
  if (include) frames.push(frame({ ...base, choices: [], usage }));
  frames.push(frame('[DONE]'));
  return ex.sse(frames, o);
}

const openAiError = (status: number) =>
  status === 429
    ? { error: { message: 'Rate limit reached for gpt-4o (fake) on requests per min (RPM): Limit 3, Used 3, Requested 1.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }
    : { error: { message: `The fake provider failed (${status}).`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null } };

export const ANSWERS: Record<FakeKind, KindAnswers> = {
  openai: {
    answer(ex, o) {
      const p = ex.req.path;
      const b = ex.req.json ?? {};
      if (p.endsWith('/chat/completions')) return openAiChat(ex, o, ex.fake.chatUsage?.(b) ?? FAKE_USAGE.openaiChat);
      if (p.endsWith('/embeddings')) {
        const u = FAKE_USAGE.openaiEmbeddings;
        return ex.json(200, { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }], model: b.model, usage: { prompt_tokens: u.prompt_tokens, total_tokens: u.prompt_tokens } });
      }
      if (/\/images\/(generations|edits|variations)$/.test(p)) {
        const model = b.model ?? (ex.req.json ? undefined : formField(ex.req.raw, 'model')) ?? 'dall-e-2';
        const n = Number(b.n ?? formField(ex.req.raw, 'n') ?? 1);
        const data = Array.from({ length: n }, () => ({ b64_json: Buffer.from('PNGDATA').toString('base64'), ...(model === 'dall-e-3' ? { revised_prompt: 'A fake picture' } : {}) }));
        if (!String(model).startsWith('gpt-image')) return ex.json(200, { created: 1741608000, data });
        const u = FAKE_USAGE.gptImage;
        return ex.json(200, { created: 1741608000, data, usage: { input_tokens: u.input_tokens, input_tokens_details: { text_tokens: u.text_tokens, image_tokens: u.image_tokens }, output_tokens: n * u.output_tokens, total_tokens: u.input_tokens + n * u.output_tokens } });
      }
      if (p.endsWith('/responses')) {
        const u = FAKE_USAGE.openaiResponses;
        const usage = { input_tokens: u.input_tokens, input_tokens_details: { cached_tokens: u.cached }, output_tokens: u.output_tokens, output_tokens_details: { reasoning_tokens: u.reasoning }, total_tokens: u.input_tokens + u.output_tokens };
        const searches = offersTool(b, 'web_search') ? Array.from({ length: FAKE_USAGE.webSearches }, (_, i) => ({ type: 'web_search_call', id: `ws_fake_${i}`, status: 'completed', action: { type: 'search', query: 'fake' } })) : [];
        const response = { id: 'resp_fake', object: 'response', created_at: 1741608000, status: 'completed', model: b.model, output: [...searches, { type: 'message', id: 'msg_fake', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: TEXT.join(''), annotations: [] }] }], usage };
        if (!b.stream) return ex.json(200, response);
        const frames = [frame({ type: 'response.created', sequence_number: 0, response: { ...response, status: 'in_progress', output: [], usage: null } }, 'response.created')];
        TEXT.forEach((t, i) => frames.push(frame({ type: 'response.output_text.delta', sequence_number: i + 1, item_id: 'msg_fake', output_index: 0, content_index: 0, delta: t }, 'response.output_text.delta')));
        frames.push(frame({ type: 'response.completed', sequence_number: 99, response }, 'response.completed'));
        return ex.sse(frames, o);
      }
      return ex.json(404, { error: { message: `Unknown path ${p}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
    },
    error: openAiError,
  },

  huggingface: {
    answer(ex, o) {
      if (!ex.req.path.endsWith('/chat/completions')) return ex.json(404, { error: { message: 'not found' } });
      return openAiChat(ex, o, FAKE_USAGE.huggingface, ex.req.path.startsWith('/openai/'));
    },
    error: openAiError,
  },

  anthropic: {
    answer(ex, o) {
      const b = ex.req.json ?? {};
      if (ex.req.path !== '/v1/messages') return ex.json(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' }, request_id: 'req_fake' });
      const u = FAKE_USAGE.anthropic;
      const serverTools = offersTool(b, 'web_search') ? { server_tool_use: { web_search_requests: FAKE_USAGE.webSearches, web_fetch_requests: 0 } } : {};
      const usage = { input_tokens: u.input_tokens, cache_creation_input_tokens: u.cache_write, cache_read_input_tokens: u.cache_read, output_tokens: u.output_tokens, ...serverTools, service_tier: 'standard' };
      const message = { id: 'msg_fake', type: 'message', role: 'assistant', model: b.model, content: [{ type: 'text', text: TEXT.join('') }], stop_reason: 'end_turn', stop_sequence: null, usage };
      if (!b.stream) return ex.json(200, message, { 'request-id': 'req_fake' });
      const frames = [
        frame({ type: 'message_start', message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } } }, 'message_start'),
        frame({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start'),
        frame({ type: 'ping' }, 'ping'),
        ...TEXT.map((t) => frame({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }, 'content_block_delta')),
        frame({ type: 'content_block_stop', index: 0 }, 'content_block_stop'),
        frame({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output_tokens, ...serverTools } }, 'message_delta'),
        frame({ type: 'message_stop' }, 'message_stop'),
      ];
      return ex.sse(frames, o);
    },
    error: (status) => ({
      type: 'error',
      error: { type: status === 429 ? 'rate_limit_error' : status === 529 ? 'overloaded_error' : status >= 500 ? 'api_error' : 'invalid_request_error', message: `The fake provider failed (${status}).` },
      request_id: 'req_fake',
    }),
  },

  gemini: {
    answer(ex, o) {
      const m = /\/models\/([^:]+):(\w+)/.exec(ex.req.path);
      if (!m) return ex.json(404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
      const u = FAKE_USAGE.gemini;
      const usageMetadata = { promptTokenCount: u.prompt, candidatesTokenCount: u.candidates, thoughtsTokenCount: u.thoughts, totalTokenCount: u.prompt + u.candidates + u.thoughts, promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.prompt }] };
      const b = ex.req.json ?? {};
      const groundingMetadata = Array.isArray(b.tools) && b.tools.some((t: any) => t?.googleSearch || t?.google_search)
        ? { webSearchQueries: ['fake query'], searchEntryPoint: { renderedContent: '<div>fake</div>' }, groundingChunks: [{ web: { uri: 'https://example.com', title: 'example.com' } }] }
        : undefined;
      const cand = (text: string, done: boolean) => [{ content: { parts: [{ text }], role: 'model' }, ...(done ? { finishReason: 'STOP', ...(groundingMetadata ? { groundingMetadata } : {}) } : {}), index: 0 }];
      if (m[2] === 'generateContent') return ex.json(200, { candidates: cand(TEXT.join(''), true), usageMetadata, modelVersion: m[1], responseId: 'resp_fake' });
      if (m[2] === 'streamGenerateContent') {
        // usageMetadata is cumulative: each chunk repeats the totals so far.
        const frames = TEXT.map((t, i) =>
          frame({ candidates: cand(t, i === TEXT.length - 1), usageMetadata: i === TEXT.length - 1 ? usageMetadata : { promptTokenCount: u.prompt, candidatesTokenCount: i + 1, totalTokenCount: u.prompt + i + 1 }, modelVersion: m[1], responseId: 'resp_fake' }),
        );
        return ex.sse(frames, o);
      }
      if (m[2] === 'countTokens') return ex.json(200, { totalTokens: u.prompt });
      return ex.json(400, { error: { code: 400, message: 'bad method', status: 'INVALID_ARGUMENT' } });
    },
    error: (status) => ({ error: { code: status, message: `The fake provider failed (${status}).`, status: status === 429 ? 'RESOURCE_EXHAUSTED' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT' } }),
  },

  mistral: {
    answer(ex, o) {
      const b = ex.req.json ?? {};
      if (!ex.req.path.endsWith('/chat/completions')) return ex.json(404, { object: 'error', message: 'not found', type: 'invalid_request_error', param: null, code: null });
      const u = FAKE_USAGE.mistral;
      const usage = { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.prompt_tokens + u.completion_tokens };
      const base = { id: 'cmpl-fake', object: 'chat.completion.chunk', created: 1741608000, model: b.model };
      if (!b.stream) return ex.json(200, { id: 'cmpl-fake', object: 'chat.completion', created: 1741608000, model: b.model, choices: [{ index: 0, message: { role: 'assistant', content: TEXT.join(''), tool_calls: null }, finish_reason: 'stop' }], usage });
      const frames = [frame({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })];
      TEXT.forEach((t, i) => frames.push(frame({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: i === TEXT.length - 1 ? 'stop' : null }], ...(i === TEXT.length - 1 ? { usage } : {}) })));
      frames.push(frame('[DONE]'));
      return ex.sse(frames, o);
    },
    error: (status) => (status === 429 ? { object: 'error', message: 'Rate limit exceeded', type: 'rate_limited', param: null, code: '1300' } : { object: 'error', message: `The fake provider failed (${status}).`, type: 'api_error', param: null, code: null }),
  },

  tavily: {
    answer(ex) {
      const b = ex.req.json ?? {};
      const op = ex.req.path.replace(/^\//, '');
      if (op === 'search')
        return ex.json(200, {
          query: b.query,
          answer: null,
          images: [],
          results: [{ title: 'Fake result', url: 'https://example.com', content: 'Fake content', score: 0.9, raw_content: null }],
          response_time: 0.42,
          ...(b.include_usage ? { usage: { credits: FAKE_USAGE.tavilyCredits } } : {}),
          request_id: 'req_fake',
        });
      if (op === 'extract') return ex.json(200, { results: (b.urls ?? []).map((url: string) => ({ url, raw_content: 'text' })), failed_results: [], response_time: 0.2, ...(b.include_usage ? { usage: { credits: 1 } } : {}) });
      return ex.json(404, { detail: { error: 'Not found' } });
    },
    error: (status) => ({ detail: { error: status === 429 ? 'Your request has been blocked due to excessive requests.' : `The fake provider failed (${status}).` } }),
  },

  serper: {
    answer(ex) {
      const b = ex.req.json ?? {};
      return ex.json(200, { searchParameters: { q: b.q, type: 'search', engine: 'google' }, organic: [{ title: 'Fake', link: 'https://example.com', snippet: 'Fake', position: 1 }], credits: FAKE_USAGE.serperCredits });
    },
    error: (status) => ({ message: status === 400 ? 'Not enough credits' : `The fake provider failed (${status}).`, statusCode: status }),
  },

  exa: {
    answer(ex) {
      const op = ex.req.path.replace(/^\//, '');
      const b = ex.req.json ?? {};
      if (op === 'search')
        return ex.json(200, { requestId: 'req_fake', resolvedSearchType: 'neural', results: [{ id: 'https://example.com', url: 'https://example.com', title: 'Fake', score: 0.5 }], costDollars: { total: 0.005, search: { neural: 0.005 } } });
      if (op === 'contents') return ex.json(200, { requestId: 'req_fake', results: (b.ids ?? b.urls ?? []).map((id: string) => ({ id, url: id, text: 'text' })), costDollars: { total: 0.001 } });
      return ex.json(404, { error: 'Not found' });
    },
    error: (status) => ({ requestId: 'req_fake', error: `The fake provider failed (${status}).`, tag: status === 429 ? 'RATE_LIMIT' : 'INTERNAL' }),
  },

  firecrawl: {
    answer(ex) {
      const p = ex.req.path;
      if (p === '/v2/scrape') return ex.json(200, { success: true, data: { markdown: '# Fake', metadata: { title: 'Fake', sourceURL: ex.req.json?.url, statusCode: 200, creditsUsed: FAKE_USAGE.firecrawlScrapeCredits } } });
      // Each job started gets its own id (crawl-fake-1, crawl-fake-2, ...; batch-fake-1, ...).
      const started = (path: string) => ex.fake.requests.filter((r) => r.method === 'POST' && r.path === path).length || 1;
      if (p === '/v2/crawl' && ex.req.method === 'POST') return ex.json(200, { success: true, id: `crawl-fake-${started(p)}`, url: `${ex.fake.url}/v2/crawl/crawl-fake-${started(p)}` });
      if (p === '/v2/batch/scrape' && ex.req.method === 'POST') return ex.json(200, { success: true, id: `batch-fake-${started(p)}`, url: `${ex.fake.url}/v2/batch/scrape/batch-fake-${started(p)}`, invalidURLs: [] });
      if (p === '/v2/extract' && ex.req.method === 'POST') return ex.json(200, { success: true, id: 'extract-fake-1' });
      const b = /^\/v2\/batch\/scrape\/([^/]+)$/.exec(p);
      if (b && ex.req.method === 'GET') return ex.json(200, { success: true, status: 'completed', completed: 2, total: 2, creditsUsed: FAKE_USAGE.firecrawlBatchCredits, expiresAt: '2025-03-11T00:00:00.000Z', data: [{ markdown: 'a', metadata: {} }, { markdown: 'b', metadata: {} }] });
      const m = /^\/v2\/crawl\/([^/]+)$/.exec(p);
      if (m && ex.req.method === 'GET') {
        // The first poll sees the job running, the next ones completed (with the whole job's credits).
        const polls = ex.fake.requests.filter((r) => r.path === p).length;
        if (polls <= 1) return ex.json(200, { success: true, status: 'scraping', completed: 1, total: 3, creditsUsed: 1, expiresAt: '2025-03-11T00:00:00.000Z', data: [] });
        return ex.json(200, { success: true, status: 'completed', completed: 3, total: 3, creditsUsed: FAKE_USAGE.firecrawlCrawlCredits, expiresAt: '2025-03-11T00:00:00.000Z', data: [{ markdown: 'a', metadata: {} }] });
      }
      return ex.json(404, { success: false, error: 'Not found' });
    },
    error: (status) => ({ success: false, error: status === 429 ? 'Rate limit exceeded. Consumed (req/min): 11, Remaining (req/min): 0.' : `The fake provider failed (${status}).` }),
  },

  stability: {
    answer(ex) {
      if (/^\/v2beta\/3d\//.test(ex.req.path)) {
        ex.res.writeHead(200, { 'content-type': 'model/gltf-binary', 'content-length': 4 });
        ex.res.end(Buffer.from('glTF'));
        return;
      }
      // Asynchronous endpoints answer with the generation's id; the result is fetched from /v2beta/results/{id}.
      if (/^\/v2beta\/stable-image\/(upscale\/creative|edit\/replace-background-and-relight)$/.test(ex.req.path)) return ex.json(200, { id: 'fake-generation-id' });
      if (!/\/v2beta\/stable-image\/(generate\/(core|ultra|sd3)|edit\/[\w-]+|control\/[\w-]+|upscale\/[\w-]+)$/.test(ex.req.path)) return ex.json(404, { id: 'fake', name: 'not_found', errors: ['Not found'] });
      const accept = String(ex.req.headers.accept ?? 'image/*');
      if (accept.includes('application/json')) return ex.json(200, { image: Buffer.from('PNGDATA').toString('base64'), finish_reason: 'SUCCESS', seed: 42 });
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
      ex.res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, 'finish-reason': 'SUCCESS', seed: '42' });
      ex.res.end(png);
    },
    error: (status) => ({ id: 'err_fake', name: status === 429 ? 'rate_limit_exceeded' : 'server_error', errors: [`The fake provider failed (${status}).`] }),
  },
};
