/**
 * Upstream faults: a provider that times out, resets the connection, answers 500 or 529, or cuts a stream midway.
 * The client gets the provider's error as the provider sent it (status and body), the call is recorded in the usage
 * log with that status (a cut stream or a client that gave up: estimated), and Tollgate stays ready (/ready 200).
 */
import { request } from 'undici';
import { startTestApp, TestApp, TEST_ADMIN_KEY } from '../support/test-app';
import { errorBody, FaultUpstream } from './support/fault-upstream';

jest.setTimeout(60_000);

/** An app whose OpenAI and Anthropic are the fault upstream, a tenant `faults` with stored keys; returns its tenant key. */
async function startFaultsApp(upstream: FaultUpstream, env: Record<string, string> = {}): Promise<{ t: TestApp; key: string }> {
  const t = await startTestApp({ env: { TOLLGATE_UPSTREAM_OPENAI: upstream.url, TOLLGATE_UPSTREAM_ANTHROPIC: upstream.url, ...env } });
  const ok = (r: { status: number; text: string }) => expect(r.status).toBeLessThan(300);
  ok(await t.request('PUT', '/api/admin/plans/faults', { key: TEST_ADMIN_KEY, body: { name: 'Faults', monthly_price: 0, yearly_price: 0, limits: {} } }));
  ok(await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'faults', name: 'Faults', default_plan_id: 'faults' } }));
  const k = await t.request('POST', '/api/admin/tenants/faults/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } });
  ok(k);
  ok(await t.request('PUT', '/api/tenant/provider-keys/openai', { key: k.body.key, body: { api_key: 'sk-faults-0000000000' } }));
  ok(await t.request('PUT', '/api/tenant/provider-keys/anthropic', { key: k.body.key, body: { api_key: 'sk-ant-faults-000000' } }));
  return { t, key: k.body.key };
}

describe('upstream faults', () => {
  let t: TestApp;
  let upstream: FaultUpstream;
  let key = '';

  beforeAll(async () => {
    upstream = new FaultUpstream();
    await upstream.start();
    ({ t, key } = await startFaultsApp(upstream));
  });

  afterAll(async () => {
    await t?.close();
    await upstream?.stop();
  });

  const openai = (user: string, mode: string, stream = false, timeoutMs = 10_000) =>
    request(`${t.url}/proxy/openai/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'x-tollgate-user': user, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: `mode:${mode} hi` }], ...(stream ? { stream: true } : {}) }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });

  /** The user's usage log once it holds n items (the gateway records behind the response). */
  async function logOf(user: string, n: number): Promise<any[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await t.settle();
      const r = await t.request('GET', `/api/subscription/usage/${user}/logs`, { key });
      expect(r.status).toBe(200);
      if (r.body.items.length >= n || Date.now() > deadline) return r.body.items;
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  async function ready(): Promise<void> {
    const r = await t.request('GET', '/ready');
    expect(r.status).toBe(200);
  }

  it('a 500 reaches the client as sent and is recorded with status 500', async () => {
    const r = await openai('f-500', '500');
    expect(r.statusCode).toBe(500);
    expect(await r.body.json()).toEqual(errorBody('openai', 500, 'The server had an error while processing your request.'));
    const [item] = await logOf('f-500', 1);
    expect(item.status).toBe(500);
    await ready();
  });

  it("Anthropic's 529 overloaded reaches the client as sent and is recorded with status 529", async () => {
    const r = await request(`${t.url}/proxy/anthropic/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'x-tollgate-user': 'f-529', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-3-haiku-20240307', max_tokens: 10, messages: [{ role: 'user', content: 'mode:529 hi' }] }),
    });
    expect(r.statusCode).toBe(529);
    expect(await r.body.json()).toEqual(errorBody('anthropic', 529, 'Overloaded'));
    const [item] = await logOf('f-529', 1);
    expect(item.status).toBe(529);
    await ready();
  });

  it('a connection reset before any byte: a 502 in the provider shape, recorded with its status', async () => {
    const r = await openai('f-reset', 'reset');
    expect(r.statusCode).toBe(502);
    const body = (await r.body.json()) as any;
    expect(typeof body.error.message).toBe('string');
    const [item] = await logOf('f-reset', 1);
    expect(item.status).toBe(502);
    await ready();
  });

  it('a stream cut midway: the client gets the bytes sent and then the cut; recorded as estimated', async () => {
    const r = await openai('f-cut', 'cut', true);
    expect(r.statusCode).toBe(200);
    let received = '';
    let cut = false;
    try {
      for await (const chunk of r.body) received += chunk.toString();
    } catch {
      cut = true;
    }
    expect(cut).toBe(true);
    expect(received).toContain('chat.completion.chunk');
    expect(received).not.toContain('[DONE]');
    const [item] = await logOf('f-cut', 1);
    expect(item.status).toBe(200);
    expect(item.estimated).toBe(true);
    await ready();
  });

  it('a provider that never answers: the client gives up, the call is recorded (499, estimated), Tollgate stays ready', async () => {
    await expect(openai('f-timeout', 'timeout', false, 1500).then((r) => r.body.text())).rejects.toThrow();
    const [item] = await logOf('f-timeout', 1);
    expect(item.status).toBe(499);
    await ready();
    // And the next call goes through.
    const r = await openai('f-timeout', 'ok');
    expect(r.statusCode).toBe(200);
    await r.body.text();
    expect((await logOf('f-timeout', 2)).length).toBe(2);
  });

  describe('with TOLLGATE_UPSTREAM_TIMEOUT_OPENAI_MS=1000', () => {
    let slow: TestApp;
    let slowKey = '';
    beforeAll(async () => ({ t: slow, key: slowKey } = await startFaultsApp(upstream, { TOLLGATE_UPSTREAM_TIMEOUT_OPENAI_MS: '1000' })));
    afterAll(async () => slow?.close());

    it('a provider that never answers: 504 in its own error shape after the timeout, recorded (504, estimated prompt), the next call goes through', async () => {
      const started = Date.now();
      const r = await request(`${slow.url}/proxy/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${slowKey}`, 'x-tollgate-user': 'f-slow', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'mode:timeout hi' }] }),
      });
      const body = (await r.body.json()) as any;
      expect(r.statusCode).toBe(504);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(body.error.message).toMatch(/openai did not answer within 1 s/);
      const deadline = Date.now() + 10_000;
      let items: any[] = [];
      while (!items.length && Date.now() < deadline) {
        await slow.settle();
        items = (await slow.request('GET', '/api/subscription/usage/f-slow/logs', { key: slowKey })).body.items;
      }
      expect(items[0]).toMatchObject({ status: 504, outcome: 'error', estimated: true, output_tokens: 0 });
      expect(items[0].input_tokens).toBeGreaterThan(0);
      const next = await request(`${slow.url}/proxy/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${slowKey}`, 'x-tollgate-user': 'f-slow', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4', messages: [{ role: 'user', content: 'mode:ok hi' }] }),
      });
      expect(next.statusCode).toBe(200);
      await next.body.text();
    });
  });
});
