import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';
import { IdentityFacade } from '../../src/identity';

describe('Identity: tenants, keys, roles', () => {
  let t: TestApp;
  let tenantKey: string;

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z', env: { TOLLGATE_TRUST_PROXY: '127.0.0.1' } });
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'shop-a', name: 'Shop A' } })).status).toBe(201);
    const k = await t.request('POST', '/api/admin/tenants/shop-a/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } });
    expect(k.status).toBe(201);
    tenantKey = k.body.key;
  });
  afterAll(async () => t?.close());

  it('creates a tenant on the free plan unless another default is given, and refuses a duplicate or unknown plan', async () => {
    const r = await t.request('GET', '/api/admin/tenants/shop-a', { key: TEST_ADMIN_KEY });
    expect(r.body).toEqual({ tenant_id: 'shop-a', name: 'Shop A', default_plan_id: 'free', created_at: '2025-03-10T12:00:00.000Z' });
    expect((await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'shop-a', name: 'Again' } })).status).toBe(409);
    const bad = await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'shop-x', name: 'X', default_plan_id: 'nope' } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('validation_failed');
  });

  it('issues a tenant key shown once, stored only as a hash (events carry hash, prefix and last four)', async () => {
    const k = await t.request('POST', '/api/admin/tenants/shop-a/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } });
    expect(k.body).toEqual({ key_id: expect.stringMatching(/^key_/), key: expect.stringMatching(/^tg_[A-Za-z0-9_-]{43}$/), role: 'tenant', prefix: k.body.key.slice(0, 8), last_four: k.body.key.slice(-4), tenant_id: 'shop-a', created_at: '2025-03-10T12:00:00.000Z' });
    const events = await t.app.get<EventStore>(EVENT_STORE).readStream(`apikey-${k.body.key_id}`);
    expect(events.map((e) => e.type)).toEqual(['ApiKeyIssued']);
    expect(events[0].data).toMatchObject({ key_hash: createHash('sha256').update(k.body.key).digest('hex'), prefix: k.body.key.slice(0, 8), last_four: k.body.key.slice(-4), role: 'tenant', tenant_id: 'shop-a' });
    const everything = JSON.stringify((await t.app.get<EventStore>(EVENT_STORE).readAll({ maxCount: 10_000 })).map((e) => [e.type, e.data, e.metadata]));
    expect(everything).not.toContain(k.body.key);
    await t.settle();
    // Nowhere on disk either (event log, read models, their WAL files).
    for (const f of fs.readdirSync(t.dataDir)) expect(fs.readFileSync(path.join(t.dataDir, f)).includes(k.body.key)).toBe(false);
    const listing = await t.request('GET', '/api/tenant/keys', { key: tenantKey });
    expect(JSON.stringify(listing.body)).not.toContain(k.body.key);
  });

  it('answers whoami for each role', async () => {
    expect((await t.request('GET', '/api/auth/whoami', { key: TEST_ADMIN_KEY })).body).toMatchObject({ role: 'admin', tenant_id: null });
    expect((await t.request('GET', '/api/auth/whoami', { key: tenantKey })).body).toMatchObject({ role: 'tenant', tenant_id: 'shop-a' });
    const u = await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'alice' } });
    expect(u.status).toBe(201);
    expect(u.body).toMatchObject({ role: 'user', user_id: 'alice', tenant_id: 'shop-a' });
    const who = await t.request('GET', '/api/auth/whoami', { headers: { 'x-tollgate-key': u.body.key } });
    expect(who.body).toEqual({ role: 'user', tenant_id: 'shop-a', user_id: 'alice', key_id: u.body.key_id });
  });

  it('lists keys with prefix, last four, role, created and last used', async () => {
    const u = await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'bob' } });
    t.clock.set('2025-03-11T08:00:00.000Z');
    await t.request('GET', '/api/auth/whoami', { key: u.body.key });
    await t.settle();
    await new Promise((r) => setTimeout(r, 50));
    const list = await t.request('GET', '/api/tenant/keys', { key: tenantKey });
    const bob = list.body.keys.find((k: any) => k.key_id === u.body.key_id);
    expect(bob).toEqual({ key_id: u.body.key_id, role: 'user', tenant_id: 'shop-a', user_id: 'bob', prefix: u.body.prefix, last_four: u.body.last_four, created_at: '2025-03-10T12:00:00.000Z', last_used_at: '2025-03-11T08:00:00.000Z', revoked_at: null });
  });

  it('revokes a key: it fails at once with the same 401 as an unknown key', async () => {
    const u = await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'carol' } });
    expect((await t.request('GET', '/api/auth/whoami', { key: u.body.key })).status).toBe(200);
    const del = await t.request('DELETE', `/api/tenant/keys/${u.body.key_id}`, { key: tenantKey });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ key_id: u.body.key_id, revoked_at: expect.any(String) });
    const revoked = await t.request('GET', '/api/auth/whoami', { key: u.body.key });
    const unknown = await t.request('GET', '/api/auth/whoami', { key: 'tg_' + 'x'.repeat(43) });
    const missing = await t.request('GET', '/api/auth/whoami');
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(unknown.body);
    expect(missing.body).toEqual(unknown.body);
    expect(revoked.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: {} } });
    // Still refused after the read model has the revocation and the cache is re-read.
    await t.settle();
    expect((await t.app.get(IdentityFacade).authenticate(u.body.key))).toBeNull();
  });

  it("answers 404 when a tenant revokes another tenant's key, and lets the operator revoke any", async () => {
    await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'shop-b', name: 'Shop B' } });
    const other = (await t.request('POST', '/api/admin/tenants/shop-b/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body;
    expect((await t.request('DELETE', `/api/tenant/keys/${other.key_id}`, { key: tenantKey })).status).toBe(404);
    expect((await t.request('DELETE', `/api/tenant/keys/no-such-key`, { key: tenantKey })).status).toBe(404);
    expect((await t.request('GET', '/api/auth/whoami', { key: other.key })).status).toBe(200);
    expect((await t.request('DELETE', `/api/admin/keys/${other.key_id}`, { key: TEST_ADMIN_KEY })).status).toBe(200);
    expect((await t.request('GET', '/api/auth/whoami', { key: other.key })).status).toBe(401);
  });

  it('enforces roles: a tenant key cannot use the operator API, a user key cannot issue keys', async () => {
    const forbidden = await t.request('POST', '/api/admin/tenants', { key: tenantKey, body: { tenant_id: 'evil', name: 'Evil' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    const u = (await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: 'dave' } })).body.key;
    expect((await t.request('POST', '/api/tenant/keys', { key: u, body: { user_id: 'dave2' } })).status).toBe(403);
  });

  it('needs a key everywhere but the public routes', async () => {
    expect((await t.request('GET', '/health')).status).toBe(200);
    expect((await t.request('GET', '/api/subscription/plans')).status).toBe(200);
    expect((await t.request('GET', '/api/docs-json')).status).toBe(200);
    expect((await t.request('GET', '/api/tenant/keys')).status).toBe(401);
    expect((await t.request('GET', '/api/admin/tenants')).status).toBe(401);
  });

  it('rate limits failed authentication per client address with 429 in the one error shape, never a valid key', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    let last: Awaited<ReturnType<TestApp['request']>> | undefined;
    for (let i = 0; i < 61; i++) last = await t.request('GET', '/api/auth/whoami', { key: `tg_wrong_${i}`, headers: from('203.0.113.7') });
    expect(last!.status).toBe(429);
    expect(last!.body).toEqual({ error: { code: 'too_many_failed_authentications', message: expect.any(String), details: { retry_after_seconds: expect.any(Number) } } });
    expect(last!.headers.get('retry-after')).toBeTruthy();
    // A valid key from that address is still served (only failures are slowed); another address is not affected.
    expect((await t.request('GET', '/api/auth/whoami', { key: tenantKey, headers: from('203.0.113.7') })).status).toBe(200);
    expect((await t.request('GET', '/api/auth/whoami', { key: 'tg_other_x', headers: from('203.0.113.8') })).status).toBe(401);
    // The window passes.
    t.clock.set(new Date(t.clock.now().getTime() + 61_000));
    expect((await t.request('GET', '/api/auth/whoami', { key: 'tg_wrong_y', headers: from('203.0.113.7') })).status).toBe(401);
  });
});

describe('client addresses behind no trusted proxy (TOLLGATE_TRUST_PROXY unset)', () => {
  let t: TestApp;
  afterAll(async () => t?.close());

  it('counts failed authentications by the socket peer: a forged X-Forwarded-For does not dodge the limit', async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z' });
    let last: Awaited<ReturnType<TestApp['request']>> | undefined;
    for (let i = 0; i < 61; i++) last = await t.request('GET', '/api/auth/whoami', { key: `tg_wrong_${i}`, headers: { 'x-forwarded-for': `198.51.100.${i}` } });
    expect(last!.status).toBe(429);
    expect(last!.body.error.code).toBe('too_many_failed_authentications');
  });
});
