/**
 * The gateway against a hostile end user (issue 22, the gateway's edge): what a user key can reach with the tenant's
 * provider key, how paths, bodies, names and keys are bounded, and what the gateway's answers carry. Each test is
 * named after the threat, asserts the refusal in the provider's own error shape, and asserts what the provider saw
 * (nothing, or the exact body) and that nothing was recorded.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FakeKind } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';
import { appendedBy, expectProviderShape, rawRequest } from './gateway-support';

const KINDS: FakeKind[] = ['openai', 'anthropic', 'gemini', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'];
const CHAT = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });

describe('gateway edge: a hostile user key', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  const fakes = {} as Record<FakeKind, FakeProvider>;
  let address = 0;
  /** A client address of its own for each test (TOLLGATE_TRUST_PROXY trusts loopback), so failure counts do not mix. */
  const from = () => ({ 'x-forwarded-for': `198.51.100.${++address}` });
  const hitsOf = () => Object.fromEntries(KINDS.map((k) => [k, fakes[k].hits]));

  beforeAll(async () => {
    for (const k of KINDS) fakes[k] = await startFake(k);
    const env: Record<string, string> = { TOLLGATE_TRUST_PROXY: '127.0.0.1', TOLLGATE_UPSTREAM_MISTRAL: 'http://127.0.0.1:9' };
    for (const k of KINDS) env[`TOLLGATE_UPSTREAM_${k.toUpperCase()}`] = fakes[k].url;
    t = await startTestApp({ env });
    ten = await setupTenant(t, { tenantId: 'acme', providers: [...KINDS, 'mistral'], users: ['mallory', 'alice'] });
    // mallory may make one Gemini call a period.
    expect((await t.request('PUT', '/api/admin/plans/one-gemini', { key: TEST_ADMIN_KEY, body: { name: 'one', monthly_price: 1, yearly_price: 10, limits: { gemini_calls: 1 } } })).status).toBe(200);
    expect((await t.request('POST', '/api/subscription/subscribe', { key: ten.tenantKey, body: { user_id: 'mallory', plan_id: 'one-gemini', billing_cycle: 'monthly' } })).status).toBeLessThan(300);
  });
  afterAll(async () => {
    await t?.close();
    for (const f of Object.values(fakes)) await f.stop();
  });
  beforeEach(() => {
    for (const f of Object.values(fakes)) {
      f.reset();
      f.responseHeaders = {};
    }
  });

  const keyHeaders: Record<string, (key: string) => Record<string, string>> = {
    openai: (k) => ({ authorization: `Bearer ${k}` }),
    huggingface: (k) => ({ authorization: `Bearer ${k}` }),
    anthropic: (k) => ({ 'x-api-key': k, 'anthropic-version': '2023-06-01' }),
    gemini: (k) => ({ 'x-goog-api-key': k }),
    tavily: (k) => ({ authorization: `Bearer ${k}` }),
    serper: (k) => ({ 'x-api-key': k }),
    exa: (k) => ({ 'x-api-key': k }),
    firecrawl: (k) => ({ authorization: `Bearer ${k}` }),
    stability: (k) => ({ authorization: `Bearer ${k}` }),
  };

  describe('only what Tollgate can meter is forwarded', () => {
    const unmetered: Array<[FakeKind, string, string, string?]> = [
      ['openai', 'GET', '/v1/files'],
      ['openai', 'DELETE', '/v1/files/file-abc123'],
      ['openai', 'POST', '/v1/files', '{"purpose":"fine-tune"}'],
      ['openai', 'POST', '/v1/fine_tuning/jobs', '{"model":"gpt-4o-mini","training_file":"file-abc"}'],
      ['openai', 'POST', '/v1/batches', '{"input_file_id":"file-abc","endpoint":"/v1/chat/completions","completion_window":"24h"}'],
      ['openai', 'POST', '/v1/realtime/client_secrets', '{"session":{"type":"realtime","model":"gpt-realtime"}}'],
      ['openai', 'GET', '/v1/chat/completions'],
      ['openai', 'GET', '/v1/chat/completions/chatcmpl-abc'],
      ['openai', 'POST', '/v1/chat/completions/chatcmpl-abc', '{"metadata":{"x":"y"}}'],
      ['openai', 'DELETE', '/v1/chat/completions/chatcmpl-abc'],
      ['openai', 'GET', '/v1/chat/completions/chatcmpl-abc/messages'],
      ['openai', 'GET', '/v1/responses/resp_abc'],
      ['openai', 'DELETE', '/v1/models/ft:gpt-4o-mini:acme::abc'],
      ['openai', 'GET', '/v1/models'],
      ['openai', 'GET', '/v1/organization/costs'],
      ['openai', 'GET', '/v1/organization/projects'],
      ['openai', 'POST', '/v1/vector_stores', '{"name":"x"}'],
      ['anthropic', 'POST', '/v1/messages/batches', '{"requests":[]}'],
      ['anthropic', 'GET', '/v1/messages/batches'],
      ['anthropic', 'GET', '/v1/messages/batches/msgbatch_abc/results'],
      ['anthropic', 'GET', '/v1/organizations/me'],
      ['anthropic', 'GET', '/v1/files'],
      ['gemini', 'GET', '/v1beta/files'],
      ['gemini', 'GET', '/v1beta/models'],
      ['gemini', 'DELETE', '/v1beta/cachedContents/abc'],
      ['gemini', 'POST', '/v1beta/models/gemini-2.5-flash:batchGenerateContent', '{"batch":{}}'],
      ['tavily', 'GET', '/usage'],
      ['firecrawl', 'GET', '/v2/team/credit-usage'],
      ['firecrawl', 'DELETE', '/v2/crawl/abc-123'],
      ['stability', 'GET', '/v1/user/balance'],
      ['stability', 'GET', '/v1/user/account'],
      ['huggingface', 'GET', '/v1/models'],
    ];

    // Every row has its four values: a shorter row would make Jest pass `done` as the body.
    it.each(unmetered.map(([p, m, path, body]) => [p, m, path, body ?? ''] as const))('a user key cannot reach %s %s %s with the tenant\'s key: 404 in the provider\'s shape, nothing forwarded or recorded', async (provider, method, path, body) => {
      const { result: r, events } = await appendedBy(t, () =>
        rawRequest(t.url, method, `/proxy/${provider}${path}`, { headers: { ...keyHeaders[provider](ten.userKeys.alice), ...(body ? { 'content-type': 'application/json' } : {}), ...from() }, body: body || undefined }),
      );
      expect(r.status).toBe(404);
      expectProviderShape(provider, r.json);
      expect(fakes[provider].hits).toBe(0);
      expect(events).toEqual([]);
    });

    it('a tenant key cannot reach them either unless the operator allowed them', async () => {
      const r = await rawRequest(t.url, 'GET', '/proxy/openai/v1/files', { headers: { authorization: `Bearer ${ten.tenantKey}`, 'x-tollgate-user': 'alice', ...from() } });
      expect(r.status).toBe(404);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
    });

    it('the metered operations still go through (chat, count_tokens)', async () => {
      const chat = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body: CHAT });
      expect(chat.status).toBe(200);
      const count = await rawRequest(t.url, 'POST', '/proxy/anthropic/v1/messages/count_tokens', { headers: { ...keyHeaders.anthropic(ten.userKeys.alice), 'content-type': 'application/json', ...from() }, body: '{"model":"claude-3","messages":[]}' });
      void count;
      expect(fakes.openai.hits).toBe(1);
      expect(fakes.anthropic.hits).toBe(1);
      expect(fakes.anthropic.last.path).toBe('/v1/messages/count_tokens');
    });
  });

  describe('paths are normalised before they are classified', () => {
    it('a paid generateContent smuggled behind countTokens/../.. is refused (400), never forwarded, and the limit holds', async () => {
      const key = keyHeaders.gemini(ten.userKeys.mallory);
      const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
      // mallory uses her one Gemini call.
      const first = await rawRequest(t.url, 'POST', '/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent', { headers: { ...key, 'content-type': 'application/json', ...from() }, body });
      expect(first.status).toBe(200);
      fakes.gemini.reset();
      for (const path of [
        '/proxy/gemini/v1beta/models/m:countTokens/../../models/m:generateContent',
        '/proxy/gemini/v1beta/models/m:countTokens/%2e%2e/%2E%2E/models/m:generateContent',
        '/proxy/gemini/v1beta/models/m:countTokens/.%2e/.%2e/models/m:generateContent',
        '/proxy/gemini/v1beta/models/m:countTokens%2f..%2f..%2fmodels/m:generateContent',
        '/proxy/gemini/v1beta/models/m:countTokens\\..\\..\\models/m:generateContent',
        '/proxy/gemini/v1beta/models/m:countTokens%5c..%5cmodels/m:generateContent',
        '/proxy/gemini/v1beta/./models/m:generateContent',
      ]) {
        const { result: r, events } = await appendedBy(t, () => rawRequest(t.url, 'POST', path, { headers: { ...key, 'content-type': 'application/json', ...from() }, body }));
        expect({ path, status: r.status }).toEqual({ path, status: 400 });
        expectProviderShape('gemini', r.json);
        expect(events).toEqual([]);
      }
      expect(fakes.gemini.hits).toBe(0);
      // Over her limit, the paid call itself is refused; the free count still goes through.
      const paid = await rawRequest(t.url, 'POST', '/proxy/gemini/v1beta/models/gemini-2.5-flash:generateContent', { headers: { ...key, 'content-type': 'application/json', ...from() }, body });
      expect(paid.status).toBe(429);
      expect(fakes.gemini.hits).toBe(0);
    });
  });

  describe('bodies are never altered or emptied', () => {
    it('a JSON call sent as text/plain reaches the provider with its exact bytes (as JSON) and is recorded with its model', async () => {
      const { result: r, events } = await appendedBy(t, () =>
        rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'text/plain', ...from() }, body: CHAT }),
      );
      expect(r.status).toBe(200);
      expect(fakes.openai.hits).toBe(1);
      expect(fakes.openai.last.raw.toString('utf8')).toBe(CHAT);
      expect(fakes.openai.last.headers['content-type']).toBe('application/json');
      const recorded = events.filter((e) => e.type === 'UsageRecorded');
      expect(recorded).toHaveLength(1);
      expect(recorded[0].data.model).toBe('gpt-4o-mini');
    });

    it.each([
      ['text/plain', 'model=gpt-4o&prompt=hi', 415],
      ['application/x-www-form-urlencoded', 'model=gpt-4o&messages=hi', 415],
      ['application/json', '{"model": "gpt-4o", ', 400],
      ['application/json', '', 400],
      [undefined, 'not json', 415],
    ])('a body that is not JSON (%s) on a JSON operation is refused and reaches no provider', async (contentType, body, status) => {
      const { result: r, events } = await appendedBy(t, () =>
        rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, ...(contentType ? { 'content-type': contentType } : {}), ...from() }, body }),
      );
      expect(r.status).toBe(status);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
      expect(events).toEqual([]);
    });

    it('a JSON body nested deeper than 64 levels is refused (400) before it is read', async () => {
      const deep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${'['.repeat(5000)}${']'.repeat(5000)}}]}`;
      const r = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body: deep });
      expect(r.status).toBe(400);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
    });

    it('a multipart operation without a multipart body is refused (415)', async () => {
      const r = await rawRequest(t.url, 'POST', '/proxy/stability/v2beta/stable-image/generate/core', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body: '{"prompt":"x"}' });
      expect(r.status).toBe(415);
      expectProviderShape('stability', r.json);
      expect(fakes.stability.hits).toBe(0);
    });
  });

  describe('bounded names and headers', () => {
    it('a 200,000-character model is refused (400) and neither forwarded nor stored', async () => {
      const body = JSON.stringify({ model: 'g'.repeat(200_000), messages: [{ role: 'user', content: 'hi' }] });
      const { result: r, events } = await appendedBy(t, () => rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body }));
      expect(r.status).toBe(400);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
      expect(events).toEqual([]);
    });

    it.each([['x'.repeat(5000)], ['../x'], ['alice/../bob'], [' '], ['a\tb']])('x-tollgate-user #%# is refused (400) and neither forwarded nor stored', async (user) => {
      const { result: r, events } = await appendedBy(t, () =>
        rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.tenantKey}`, 'x-tollgate-user': user, 'content-type': 'application/json', ...from() }, body: CHAT }),
      );
      expect(r.status).toBe(400);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
      expect(events).toEqual([]);
    });

    it('an oversized header is refused (431) and not forwarded', async () => {
      const r = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', 'x-padding': 'p'.repeat(9000), ...from() }, body: CHAT });
      expect(r.status).toBe(431);
      expectProviderShape('openai', r.json);
      expect(fakes.openai.hits).toBe(0);
    });

    it('a 300,000-character prompt of one letter run is counted (linearly, yielding) and forwarded', async () => {
      const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a'.repeat(300_000) }] });
      const r = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body });
      expect(r.status).toBe(200);
      expect(fakes.openai.last.raw.toString('utf8')).toBe(body);
    });
  });

  describe('failed authentications are slowed, valid keys never', () => {
    it('120 unknown keys in a row on /proxy are answered 429 with Retry-After after 60, and a valid key from that address is still served', async () => {
      const addr = from();
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof rawRequest>> | undefined;
      for (let i = 0; i < 120; i++) {
        last = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer tg_guess${String(i).padStart(40, '0')}`, 'content-type': 'application/json', ...addr }, body: CHAT });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 60).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(60).every((s) => s === 429)).toBe(true);
      expectProviderShape('openai', last!.json);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(fakes.openai.hits).toBe(0);
      const valid = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...addr }, body: CHAT });
      expect(valid.status).toBe(200);
    });

    it('failures with one key prefix from many addresses are slowed too; the real key with that prefix is still served', async () => {
      const prefix = ten.userKeys.alice.slice(0, 8);
      let last: Awaited<ReturnType<typeof rawRequest>> | undefined;
      for (let i = 0; i < 61; i++) last = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${prefix}${'x'.repeat(30)}${i}`, 'content-type': 'application/json', ...from() }, body: CHAT });
      expect(last!.status).toBe(429);
      const valid = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body: CHAT });
      expect(valid.status).toBe(200);
    });

    it('on the management API a burst of bad keys from one address does not lock out a valid key from it', async () => {
      const addr = from();
      let last: Awaited<ReturnType<TestApp['request']>> | undefined;
      for (let i = 0; i < 70; i++) last = await t.request('GET', '/api/auth/whoami', { key: `tg_wrong_${i}`, headers: addr });
      expect(last!.status).toBe(429);
      expect(last!.body.error.code).toBe('too_many_failed_authentications');
      expect((await t.request('GET', '/api/auth/whoami', { key: ten.userKeys.alice, headers: addr })).status).toBe(200);
    });
  });

  describe('what leaves the gateway', () => {
    const ACCOUNT = {
      'openai-organization': 'org-acme-secret',
      'openai-project': 'proj_acme_secret',
      'set-cookie': '__cf_bm=tenant-session; path=/; HttpOnly',
      'x-ratelimit-remaining-requests': '9999',
      'anthropic-organization-id': 'org-uuid-acme',
      'anthropic-ratelimit-requests-remaining': '4000',
    };

    it("a user key's answers carry none of the tenant's provider account headers (OpenAI SDK)", async () => {
      fakes.openai.responseHeaders = ACCOUNT;
      const client = new OpenAI({ apiKey: ten.userKeys.alice, baseURL: `${t.url}/proxy/openai/v1`, defaultHeaders: from() });
      const { response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.status).toBe(200);
      for (const h of Object.keys(ACCOUNT)) expect({ h, v: response.headers.get(h) }).toEqual({ h, v: null });
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream: true }).withResponse();
      for await (const _ of stream.data) void _;
      for (const h of Object.keys(ACCOUNT)) expect({ h, v: stream.response.headers.get(h) }).toEqual({ h, v: null });
    });

    it("a user key's answers carry no Anthropic organization id (Anthropic SDK)", async () => {
      fakes.anthropic.responseHeaders = ACCOUNT;
      const client = new Anthropic({ apiKey: ten.userKeys.alice, baseURL: `${t.url}/proxy/anthropic`, defaultHeaders: from() });
      const { response } = await client.messages.create({ model: 'claude-3', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get('anthropic-organization-id')).toBeNull();
      expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toBeNull();
      expect(response.headers.get('set-cookie')).toBeNull();
    });

    it('a tenant key keeps its account headers but never gets the provider\'s cookies', async () => {
      fakes.openai.responseHeaders = ACCOUNT;
      const r = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', { headers: { authorization: `Bearer ${ten.tenantKey}`, 'x-tollgate-user': 'alice', 'content-type': 'application/json', ...from() }, body: CHAT });
      expect(r.status).toBe(200);
      expect(r.headers['openai-organization']).toBe('org-acme-secret');
      expect(r.headers['set-cookie']).toBeUndefined();
    });

    it('a user key cannot pick another of the tenant\'s OpenAI organizations or projects', async () => {
      const r = await rawRequest(t.url, 'POST', '/proxy/openai/v1/chat/completions', {
        headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'openai-organization': 'org-other', 'openai-project': 'proj_other', 'x-http-method-override': 'DELETE', 'content-type': 'application/json', ...from() },
        body: CHAT,
      });
      expect(r.status).toBe(200);
      expect(fakes.openai.last.headers['openai-organization']).toBeUndefined();
      expect(fakes.openai.last.headers['openai-project']).toBeUndefined();
      expect(fakes.openai.last.headers['x-http-method-override']).toBeUndefined();
    });

    it('a 502 names neither the exception nor the upstream address', async () => {
      const r = await rawRequest(t.url, 'POST', '/proxy/mistral/v1/chat/completions', { headers: { authorization: `Bearer ${ten.userKeys.alice}`, 'content-type': 'application/json', ...from() }, body: '{"model":"mistral-small","messages":[{"role":"user","content":"hi"}]}' });
      expect(r.status).toBe(502);
      expectProviderShape('mistral', r.json);
      expect(r.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:9\b|connect/i);
    });
  });
});
