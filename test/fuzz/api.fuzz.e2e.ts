/**
 * Property-based fuzz (fast-check) of the HTTP surface, through the real app:
 * - every management operation found in /api/docs-json, with malformed JSON, wrong types, huge and negative numbers,
 *   unknown fields, long strings and unicode, in bodies, path parameters and query strings, under various keys;
 * - the report API (`POST /api/usage/events`) with batches of odd events beside good ones;
 * - the proxy with odd paths (dot segments, encoded separators, backslashes, unmetered operations of every provider),
 *   methods, content types, header sizes and body shapes (malformed, deep, huge model, arrays, JSON labelled text).
 * Properties: no 5xx; every error in the one shape `{"error":{"code","message","details"}}` (on /proxy a refusal
 * or an upstream error keeps the provider's shape, and Tollgate's own 4xx there must still be JSON with an error);
 * nothing is recorded from a rejected request (the event store's head does not move), and a report records exactly
 * its accepted events; on /proxy a refused request also reaches no provider (the upstream sees nothing). Prints the
 * number of cases run.
 */
import fc from 'fast-check';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';
import { FaultUpstream } from '../drills/support/fault-upstream';

jest.setTimeout(170_000);

const RUNS = Number(process.env.FUZZ_RUNS ?? 20);

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  queryParams: Array<{ name: string; type?: string }>;
  bodyProps: Record<string, { type?: string }>;
  hasBody: boolean;
}

describe('fuzz: management API, report API and proxy', () => {
  let t: TestApp;
  let upstream: FaultUpstream;
  let events: EventStore;
  let tenantKey = '';
  let userKey = '';
  const counts = { management: 0, report: 0, proxy: 0, rejected: 0, accepted: 0 };
  const failures: string[] = [];

  beforeAll(async () => {
    upstream = new FaultUpstream({ keep: 1_000_000 });
    await upstream.start();
    const env: Record<string, string> = {};
    for (const p of ['OPENAI', 'ANTHROPIC', 'GEMINI', 'MISTRAL', 'TAVILY', 'SERPER', 'EXA', 'FIRECRAWL', 'STABILITY', 'HUGGINGFACE']) env[`TOLLGATE_UPSTREAM_${p}`] = upstream.url;
    t = await startTestApp({ env });
    events = t.app.get(EVENT_STORE);
    const ok = (r: { status: number; text: string }, what: string) => {
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    };
    ok(await t.request('PUT', '/api/admin/plans/fuzz-plan', { key: TEST_ADMIN_KEY, body: { name: 'Fuzz', monthly_price: 0, yearly_price: 0, limits: {} } }), 'plan');
    ok(await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'fuzz-tenant', name: 'Fuzz', default_plan_id: 'fuzz-plan' } }), 'tenant');
    const tk = await t.request('POST', '/api/admin/tenants/fuzz-tenant/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } });
    ok(tk, 'tenant key');
    tenantKey = tk.body.key;
    const uk = await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'fuzz-user' } });
    ok(uk, 'user key');
    userKey = uk.body.key;
    for (const p of ['openai', 'anthropic', 'gemini', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'])
      ok(await t.request('PUT', `/api/tenant/provider-keys/${p}`, { key: tenantKey, body: { api_key: `sk-fuzz-${p}-key-0000` } }), `provider key ${p}`);
  });

  afterAll(async () => {
    process.stdout.write(
      `fuzz: ${counts.management} management cases, ${counts.report} report cases, ${counts.proxy} proxy cases (${counts.management + counts.report + counts.proxy} in all; ${counts.rejected} rejected, ${counts.accepted} accepted)\n`,
    );
    await t?.close();
    await upstream?.stop();
  });

  /** Sends a raw request; returns status, text, parsed JSON (or undefined). */
  async function send(method: string, path: string, o: { key?: string | null; body?: string | null; contentType?: string | null; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    if (o.body != null && o.contentType !== null) headers['content-type'] = o.contentType ?? 'application/json';
    const res = await fetch(t.url + path, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : (o.body ?? undefined) });
    const text = method === 'HEAD' ? '' : await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, contentType: res.headers.get('content-type') ?? '' };
  }

  function oneShape(r: { status: number; json: any; text: string }): boolean {
    const e = r.json?.error;
    return !!e && typeof e.code === 'string' && e.code.length > 0 && typeof e.message === 'string' && 'details' in e;
  }

  /** Runs one case: no 5xx, the error shape, and an unmoved head for a rejection. */
  async function check(kind: 'management' | 'report' | 'proxy', label: string, exec: () => ReturnType<typeof send>, onAccepted?: (r: Awaited<ReturnType<typeof send>>, appended: number, types: string[]) => void) {
    await t.settle();
    const before = await events.headPosition();
    const forwardedBefore = upstream.seen.length;
    const r = await exec();
    counts[kind]++;
    await t.settle();
    const appended = await events.readAll({ after: before, maxCount: 5000 });
    const where = `${label} -> ${r.status} ${r.text.slice(0, 300)}`;
    if (r.status >= 500) failures.push(`5xx: ${where}`);
    if (r.status >= 400) {
      counts.rejected++;
      if (kind !== 'proxy' && !oneShape(r)) failures.push(`error shape: ${where}`);
      // On /proxy the provider's shape: {error} (OpenAI, Gemini, Mistral...), {type, error} (Anthropic), {detail} (Tavily),
      // {name, errors} (Stability)...
      if (kind === 'proxy' && !label.startsWith('HEAD') && !(r.json && typeof r.json === 'object' && (r.json.error || r.json.detail || r.json.message || Array.isArray(r.json.errors))))
        failures.push(`proxy error that is not a JSON error: ${where}`);
      const recorded = appended.filter((e) => !(r.status === 429 && e.type === 'UsageRefused'));
      if (recorded.length) failures.push(`recorded ${recorded.map((e) => e.type).join(',')} from a rejected request: ${where}`);
      // The fuzz's upstream answers every call it gets with a 2xx: a refusal here is Tollgate's, and nothing left.
      if (kind === 'proxy' && upstream.seen.length !== forwardedBefore) failures.push(`forwarded a request Tollgate refused: ${where}`);
    } else {
      counts.accepted++;
      onAccepted?.(r, appended.length, appended.map((e) => e.type));
    }
    expect(failures.slice(0, 5)).toEqual([]);
  }

  // ---- arbitraries ----
  const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
  const longString = fc.integer({ min: 1000, max: 20000 }).map((n) => 'x'.repeat(n));
  const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 1e21, -1, -0.5, 0, 3.14159, Number.MAX_SAFE_INTEGER);
  const oddValue: fc.Arbitrary<unknown> = fc.oneof(
    unicode,
    longString,
    hugeNumber,
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.oneof(fc.integer(), unicode), { maxLength: 5 }),
    fc.dictionary(unicode, fc.oneof(fc.integer(), unicode, fc.constant(null)), { maxKeys: 4 }),
    fc.constantFrom('2025-13-45T99:99:99Z', 'not-a-date', '', ' ', '\u0000', '../../etc/passwd', '<script>', "'; DROP TABLE events; --", '\u202e\ud83d\ude00'),
  );
  const malformedJson = fc.constantFrom('{', '{"a":', '[', 'nul', '{"events": [}', '{"a":1,,}', '\u0000', 'true', '1e99999', '"just a string"', '{"__proto__": {"x": 1}}', '{"constructor": {"prototype": {"x": 1}}}');
  const keyChoice = () => fc.constantFrom<string | null>(null, TEST_ADMIN_KEY, tenantKey, userKey, 'tg_not_a_real_key_0000000000', 'garbage');
  const pathParam = fc.oneof(unicode, longString.map((s) => s.slice(0, 600)), fc.constantFrom('fuzz-user', 'fuzz-tenant', 'fuzz-plan', 'all', '..', '%2e%2e', '0', '-1', 'null', 'undefined', 'usage_summaries', 'basic'));

  function bodyFor(op: Operation): fc.Arbitrary<string | null> {
    const props = Object.keys(op.bodyProps);
    const shaped = fc
      .record({
        known: fc.dictionary(fc.constantFrom(...(props.length ? props : ['x'])), oddValue, { maxKeys: Math.max(1, props.length) }),
        unknown: fc.dictionary(unicode, oddValue, { maxKeys: 3 }),
      })
      .map(({ known, unknown }) => JSON.stringify({ ...unknown, ...known }));
    return fc.oneof(shaped, shaped, malformedJson, fc.jsonValue().map((v) => JSON.stringify(v)), fc.constant(null), unicode);
  }

  let operations: Operation[] = [];

  it('walks /api/docs-json', async () => {
    const docs = await send('GET', '/api/docs-json');
    expect(docs.status).toBe(200);
    const spec = docs.json;
    const schemaOf = (s: any): any => (s?.$ref ? spec.components?.schemas?.[s.$ref.split('/').pop()] : s);
    for (const [p, item] of Object.entries<any>(spec.paths ?? {})) {
      for (const method of ['get', 'post', 'put', 'delete', 'patch']) {
        const o = item[method];
        if (!o || p.startsWith('/proxy')) continue;
        const params = [...(item.parameters ?? []), ...(o.parameters ?? [])];
        const body = schemaOf(o.requestBody?.content?.['application/json']?.schema);
        operations.push({
          method: method.toUpperCase(),
          path: p,
          pathParams: params.filter((x: any) => x.in === 'path').map((x: any) => x.name),
          queryParams: params.filter((x: any) => x.in === 'query').map((x: any) => ({ name: x.name, type: x.schema?.type })),
          bodyProps: body?.properties ?? {},
          hasBody: !!o.requestBody || method !== 'get',
        });
      }
    }
    // Rebuilding every projection in a loop proves nothing here and takes time; one rebuild name is fuzzed below.
    operations = operations.filter((op) => !(op.path.includes('/rebuild') && op.method === 'POST'));
    process.stdout.write(`fuzz: ${operations.length} management operations in /api/docs-json\n`);
    expect(operations.length).toBeGreaterThan(10);
  });

  it('management endpoints: no 5xx, one error shape, nothing recorded when rejected', async () => {
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            params: fc.tuple(...op.pathParams.map(() => pathParam), fc.constant(0)),
            query: fc.dictionary(fc.constantFrom(...op.queryParams.map((q) => q.name), 'unknown_param', 'limit', 'cursor'), fc.oneof(unicode, hugeNumber.map(String), longString.map((s) => s.slice(0, 2000))), { maxKeys: 3 }),
            body: bodyFor(op),
            key: keyChoice(),
            contentType: fc.constantFrom<string | null>('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', null),
          }),
          async ({ params, query, body, key, contentType }) => {
            let p = op.path;
            op.pathParams.forEach((name, i) => (p = p.replace(`{${name}}`, encodeURIComponent(String(params[i])))));
            const qs = new URLSearchParams(query as Record<string, string>).toString();
            const url = qs ? `${p}?${qs}` : p;
            await check('management', `${op.method} ${url.slice(0, 200)} key=${key ? key.slice(0, 12) : 'none'} body=${String(body).slice(0, 200)}`, () =>
              send(op.method, url, { key, body: op.method === 'GET' || op.method === 'DELETE' ? null : body, contentType }),
            );
          },
        ),
        { numRuns: RUNS },
      );
    }
  });

  it('report API: odd events beside good ones; exactly the accepted ones are recorded', async () => {
    let seq = 0;
    const goodEvent = () => ({ id: `fuzz-good-${Date.now()}-${seq++}`, user_id: 'fuzz-user', provider: 'openai', model: 'gpt-4', input_tokens: 10, output_tokens: 5, occurred_at: '2025-03-10T11:00:00.000Z' });
    const oddEvent = fc.oneof(
      oddValue,
      fc.record(
        {
          id: fc.oneof(unicode, longString, fc.integer(), fc.constant(null)),
          user_id: fc.oneof(unicode, fc.constantFrom('fuzz-user', 'someone-else'), fc.integer()),
          provider: fc.oneof(fc.constantFrom('openai', 'metaphor', 'exa', 'nope', 'OPENAI', ''), unicode),
          model: fc.oneof(unicode, longString),
          input_tokens: fc.oneof(hugeNumber, fc.integer(), unicode),
          output_tokens: fc.oneof(hugeNumber, fc.integer()),
          cache_read_tokens: hugeNumber,
          units: fc.oneof(hugeNumber, unicode),
          occurred_at: fc.oneof(fc.constantFrom('2025-03-10T11:00:00.000Z', '2999-01-01T00:00:00Z', '1970-01-01T00:00:00Z', 'yesterday'), unicode),
          surprise: oddValue,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(oddEvent, { maxLength: 6 }), fc.integer({ min: 0, max: 2 }), keyChoice(), fc.boolean(), async (odd, good, key, raw) => {
        const batch = [...odd, ...Array.from({ length: good }, goodEvent)];
        const body = raw ? JSON.stringify({ events: batch }) : JSON.stringify({ events: batch, unknown_field: 'x' });
        await check('report', `report key=${key ? key.slice(0, 12) : 'none'} ${body.slice(0, 300)}`, () => send('POST', '/api/usage/events', { key, body }), (r, appended, types) => {
          const accepted = (r.json?.results ?? []).filter((x: any) => x.status === 'accepted').length;
          const recorded = types.filter((ty) => ty === 'UsageRecorded').length;
          if (recorded !== accepted) failures.push(`report recorded ${recorded} events for ${accepted} accepted: ${r.text.slice(0, 300)}`);
          void appended;
        });
      }),
      { numRuns: RUNS * 8 },
    );
    // Malformed bodies and wrong shapes of the batch itself.
    for (const body of ['{', '[]', '{"events": {}}', '{"events": "x"}', '{"events": []}', JSON.stringify({ events: Array.from({ length: 1001 }, goodEvent) }), '{"events": [null]}', 'x'.repeat(100_000)])
      await check('report', `report body ${body.slice(0, 80)}`, () => send('POST', '/api/usage/events', { key: tenantKey, body }));
  });

  it('proxy: odd paths, methods and headers', async () => {
    const oddPath = fc.oneof(
      fc.constantFrom(
        '/proxy',
        '/proxy/',
        '/proxy/nope/v1/chat/completions',
        '/proxy/openai',
        '/proxy/openai/',
        '/proxy/openai/../../api/admin/tenants',
        '/proxy/openai/%2e%2e/%2e%2e/api/admin/tenants',
        '/proxy/openai/v1/chat/completions?x=%ZZ',
        '/proxy/gemini/v1beta/models/:generateContent',
        '/proxy/gemini/v1beta/models/%00:generateContent',
        '/proxy/anthropic/v1/messages',
        '/proxy/metaphor/search',
        '/proxy/OPENAI/v1/chat/completions',
        '/proxy//openai//v1',
        '/proxy/openai/v1/chat/completions/../../v1/files',
        '/proxy/openai/v1/./chat/completions',
        '/proxy/openai/v1/chat%2fcompletions',
        '/proxy/openai/v1/chat%5ccompletions',
        '/proxy/openai/v1\\chat\\completions',
        '/proxy/openai/v1/%2E%2E/v1/files',
        '/proxy/openai/v1//chat/completions',
        '/proxy/openai/v1/files',
        '/proxy/openai/v1/batches',
        '/proxy/openai/v1/chat/completions/chatcmpl-1',
        '/proxy/openai/v1/models',
        '/proxy/anthropic/v1/messages/batches',
        '/proxy/gemini/v1beta/models/m:countTokens/../../models/m:generateContent',
        '/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent',
        '/proxy/gemini/v1beta/files',
        '/proxy/tavily/search',
        '/proxy/tavily/usage',
        '/proxy/firecrawl/v2/scrape',
        '/proxy/firecrawl/v2/crawl/abc',
        '/proxy/firecrawl/v2/team/credit-usage',
        '/proxy/stability/v2beta/stable-image/generate/core',
        '/proxy/stability/v1/user/balance',
        '/proxy/huggingface/v1/chat/completions',
        '/proxy/exa/search',
        '/proxy/serper/search',
      ),
      fc.tuple(fc.constantFrom('openai', 'anthropic', 'gemini', 'tavily', 'nope'), unicode).map(([p, s]) => `/proxy/${p}/${encodeURIComponent(s)}`),
      longString.map((s) => `/proxy/openai/${s.slice(0, 3000)}`),
    );
    const tokenChars = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-0123456789'.split('')), minLength: 1, maxLength: 20 });
    const headerValue = fc.string({ unit: fc.constantFrom(...' !#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~'.split('')), maxLength: 60 });
    const auth = fc.constantFrom<Record<string, string>>(
      {},
      { authorization: 'Bearer TENANT', 'x-tollgate-user': 'fuzz-user' },
      { 'x-tollgate-key': 'TENANT', 'x-tollgate-user': 'fuzz-user' },
      { 'x-api-key': 'USER' },
      { 'x-goog-api-key': 'USER' },
      { authorization: 'Bearer tg_not_a_real_key_0000000000' },
      { authorization: 'Basic Zm9vOmJhcg==' },
      { authorization: 'Bearer TENANT', 'x-tollgate-user': '' },
      { authorization: 'Bearer TENANT', 'x-tollgate-user': 'x'.repeat(500) },
      { authorization: 'Bearer USER', 'x-tollgate-user': 'someone-else' },
      { authorization: 'Bearer TENANT', 'x-tollgate-user': '../fuzz-user' },
      { authorization: 'Bearer USER', 'x-padding': 'p'.repeat(9000) },
      { authorization: 'Bearer USER', 'openai-organization': 'org-other', 'x-http-method-override': 'DELETE' },
    );
    const deep = (n: number) => `{"model":"gpt-4","messages":[{"role":"user","content":${'['.repeat(n)}${']'.repeat(n)}}]}`;
    const oddBody = fc.oneof(
      fc.constant(null),
      malformedJson,
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.constant(JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'mode:ok hi' }] })),
      fc.constant(JSON.stringify({ model: 'gemini-2.5-flash', contents: [{ parts: [{ text: 'mode:ok hi' }] }] })),
      fc.constant(JSON.stringify({ model: 'm'.repeat(300), messages: [{ role: 'user', content: 'mode:ok hi' }] })),
      fc.constant(JSON.stringify({ model: 'gpt-4\nInjected: yes', messages: [] })),
      fc.constant(JSON.stringify([{ q: 'mode:ok tollgate' }, { q: 'x' }])),
      fc.integer({ min: 60, max: 3000 }).map(deep),
      fc.constant('model=gpt-4&messages=hi'),
    );
    await fc.assert(
      fc.asyncProperty(
        oddPath,
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        auth,
        fc.dictionary(tokenChars.map((s) => `x-${s}`), headerValue, { maxKeys: 4 }),
        oddBody,
        fc.constantFrom('application/json', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', 'APPLICATION/JSON'),
        async (path, method, authHeaders, extra, body, contentType) => {
          const headers: Record<string, string> = { ...extra };
          for (const [k, v] of Object.entries(authHeaders)) headers[k] = v.replace('TENANT', tenantKey).replace('USER', userKey);
          await check('proxy', `${method} ${path.slice(0, 200)} ${JSON.stringify(authHeaders)} body=${String(body).slice(0, 100)}`, () =>
            send(method, path, { headers, body: method === 'GET' || method === 'HEAD' ? null : body, contentType }),
          );
        },
      ),
      { numRuns: RUNS * 20 },
    );
  });
});
