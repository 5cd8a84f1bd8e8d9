/**
 * Properties of the gateway's path and header handling (fast-check, through the real HTTP app, raw HTTP so no client
 * normalises a path first):
 * - any metered operation's path with a dot segment, an encoded dot, an encoded slash or backslash, or a backslash put
 *   anywhere in it is refused 400 in the provider's shape and never forwarded;
 * - any metered call with any extra request headers never forwards a Tollgate key, a method override or a user's
 *   choice of the tenant's organization, and its answer never carries the tenant's account headers or cookies.
 */
import fc from 'fast-check';
import { PROVIDERS } from '../../src/gateway/providers';
import { FakeProvider, startFake } from '../fakes/fake-provider';
import { FakeKind } from '../fakes/provider-answers';
import { GatewayTenant, setupTenant } from '../fakes/tenant-setup';
import { startTestApp, TestApp } from '../support/test-app';
import { expectProviderShape, rawRequest } from './gateway-support';

jest.setTimeout(120_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 20) * 5;
const KINDS: FakeKind[] = ['openai', 'anthropic', 'gemini', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'];

describe('gateway properties: paths and headers', () => {
  let t: TestApp;
  let ten: GatewayTenant;
  const fakes = {} as Record<FakeKind, FakeProvider>;
  const totalHits = () => KINDS.reduce((n, k) => n + fakes[k].hits, 0);

  beforeAll(async () => {
    for (const k of KINDS) fakes[k] = await startFake(k);
    const env: Record<string, string> = {};
    for (const k of KINDS) env[`TOLLGATE_UPSTREAM_${k.toUpperCase()}`] = fakes[k].url;
    t = await startTestApp({ env });
    ten = await setupTenant(t, { tenantId: 'props', providers: KINDS, users: ['eve'] });
  });
  afterAll(async () => {
    await t?.close();
    for (const f of Object.values(fakes)) await f.stop();
  });

  /** Every metered operation's path, with its `{params}` filled in. */
  const templates = KINDS.flatMap((k) => PROVIDERS[k].operations.map((op) => ({ provider: k, method: op.method, path: op.path.replace(/\{[^}]+\}/g, 'm1') })));
  const attack = fc.constantFrom('..', '.', '%2e%2e', '%2E%2e', '.%2e', '%2e', '%2f', '%2F', '%5c', '%5C', '\\', '..\\', '%2e%2e%2f');

  it('any metered path with a dot segment, encoded separator or backslash is refused 400 and never forwarded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templates), attack, fc.nat(), fc.boolean(), async (tpl, bad, at, asSegment) => {
        const segments = tpl.path.split('/');
        const i = 1 + (at % (segments.length - 1));
        // As a segment of its own, or glued to an existing one (the separator kinds only mean something there).
        if (asSegment) segments.splice(i, 0, bad);
        else segments[i] = `${segments[i]}${bad.startsWith('%') || bad.includes('\\') ? bad : `/${bad}`}`;
        const path = `/proxy/${tpl.provider}${segments.join('/')}`;
        const before = totalHits();
        const r = await rawRequest(t.url, tpl.method, path, { headers: { authorization: `Bearer ${ten.userKeys.eve}`, 'x-api-key': ten.userKeys.eve, 'content-type': 'application/json' }, body: tpl.method === 'GET' ? undefined : '{}' });
        expect({ path, status: r.status }).toEqual({ path, status: 400 });
        expectProviderShape(tpl.provider, r.json);
        expect(totalHits()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('any metered call with any extra headers and query forwards no Tollgate key or override, and its answer carries no account header', async () => {
    const ACCOUNT: Record<string, string> = {
      'openai-organization': 'org-props',
      'openai-project': 'proj_props',
      'set-cookie': 'session=tenant; HttpOnly',
      'x-ratelimit-remaining-tokens': '123456',
      'anthropic-organization-id': 'org-props-uuid',
    };
    fakes.openai.responseHeaders = ACCOUNT;
    const headerName = fc.oneof(
      fc.constantFrom('x-tollgate-key', 'x-api-key', 'x-goog-api-key', 'x-http-method-override', 'x-http-method', 'x-method-override', 'openai-organization', 'openai-project', 'x-tollgate-user', 'x-forwarded-host', 'cookie'),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz-'.split('')), minLength: 1, maxLength: 16 }).map((s) => `x-${s}`),
    );
    // Key headers hold the caller's own key or something that is not a Tollgate key (a provider key of the caller's:
    // passed through in place of the tenant's), so every call is served and the property is about what it carries.
    const headerValue = fc.oneof(fc.constant(ten.userKeys.eve), fc.constant('DELETE'), fc.string({ unit: fc.constantFrom(...'abcXYZ0189-_./'.split('')), minLength: 1, maxLength: 40 }));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(headerName, headerValue, { maxKeys: 6 }), fc.boolean(), fc.dictionary(fc.constantFrom('x', 'token', 'api_key', 'key', '$httpMethod', '$alt', 'alt'), headerValue, { maxKeys: 3 }), async (extra, stream, query) => {
        fakes.openai.reset();
        const headers: Record<string, string> = { ...extra, authorization: `Bearer ${ten.userKeys.eve}`, 'content-type': 'application/json' };
        // A user key naming itself is fine, naming anyone else is refused: keep the property about headers.
        delete headers['x-tollgate-user'];
        const qs = new URLSearchParams(query).toString();
        const r = await rawRequest(t.url, 'POST', `/proxy/openai/v1/chat/completions${qs ? `?${qs}` : ''}`, { headers, body: JSON.stringify({ model: 'gpt-4o-mini', stream, messages: [{ role: 'user', content: 'hi' }] }) });
        expect(r.status).toBe(200);
        expect(fakes.openai.hits).toBe(1);
        const sent = fakes.openai.last.headers;
        expect(JSON.stringify(sent)).not.toContain('tg_');
        expect(fakes.openai.last.query.toString()).not.toContain('tg_');
        expect([...fakes.openai.last.query.keys()].filter((k) => k.startsWith('$'))).toEqual([]);
        for (const h of ['x-http-method-override', 'x-http-method', 'x-method-override', 'openai-organization', 'openai-project', 'x-tollgate-key', 'x-tollgate-user']) expect({ h, v: sent[h] }).toEqual({ h, v: undefined });
        for (const h of Object.keys(ACCOUNT)) expect({ h, v: r.headers[h] }).toEqual({ h, v: undefined });
      }),
      { numRuns: RUNS },
    );
  });
});
