import * as fs from 'fs';
import * as path from 'path';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { IdentityFacade } from '../../src/identity';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';


const SECRET = 'sk-live-provider-secret-abcdef123456';

describe('Provider keys: encrypted at rest, shown as last four, never in the log', () => {
  let t: TestApp;
  let keyA: string;
  let keyB: string;

  beforeAll(async () => {
    t = await startTestApp();
    for (const id of ['pk-a', 'pk-b']) await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: id, name: id } });
    keyA = (await t.request('POST', '/api/admin/tenants/pk-a/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
    keyB = (await t.request('POST', '/api/admin/tenants/pk-b/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  });
  afterAll(async () => t?.close());

  it('stores a key, lists its last four only, and hands the decrypted key to the gateway', async () => {
    const put = await t.request('PUT', '/api/tenant/provider-keys/openai', { key: keyA, body: { api_key: SECRET } });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ provider: 'openai', last_four: '3456', updated_at: expect.any(String) });
    const list = await t.request('GET', '/api/tenant/provider-keys', { key: keyA });
    expect(list.body).toEqual({ provider_keys: [{ provider: 'openai', last_four: '3456', updated_at: put.body.updated_at }] });
    const identity = t.app.get(IdentityFacade);
    expect(await identity.getProviderKey('pk-a', 'openai')).toBe(SECRET);
    expect(await identity.getProviderKey('pk-b', 'openai')).toBeNull();
    expect((await t.request('GET', '/api/tenant/provider-keys', { key: keyB })).body).toEqual({ provider_keys: [] });
    expect((await t.request('PUT', '/api/tenant/provider-keys/nosuch', { key: keyA, body: { api_key: SECRET } })).status).toBe(404);
    expect((await t.request('PUT', '/api/tenant/provider-keys/metaphor', { key: keyA, body: { api_key: 'exa-key-0123456789' } })).body.provider).toBe('exa');
  });

  it('keeps the key out of the event log (the event says ProviderKeySet with the last four) and off the disk in clear', async () => {
    await t.settle();
    const events = await t.app.get<EventStore>(EVENT_STORE).readStream('tenant-pk-a');
    const set = events.find((e) => e.type === 'ProviderKeySet')!;
    expect(set.data).toEqual({ tenant_id: 'pk-a', provider: 'openai', last_four: '3456', set_at: expect.any(String) });
    for (const f of fs.readdirSync(t.dataDir)) expect(fs.readFileSync(path.join(t.dataDir, f)).includes(SECRET)).toBe(false);
  });

  it('uses a fresh IV for every encryption and the tenant as associated data: moved or tampered ciphertexts fail', async () => {
    const docs = t.app.get<ReadStore>(READ_STORE).collection<any>('provider_keys');
    const first = (await docs.get('pk-a/openai')).sealed;
    await t.request('PUT', '/api/tenant/provider-keys/openai', { key: keyA, body: { api_key: SECRET } });
    const second = (await docs.get('pk-a/openai')).sealed;
    expect(second).not.toBe(first);
    expect(second.split('.')[1]).not.toBe(first.split('.')[1]);
    const identity = t.app.get(IdentityFacade);
    // Moved to another tenant: decryption fails (the tenant id is authenticated data).
    await docs.put({ _id: 'pk-b/mistral', tenant_id: 'pk-b', provider: 'mistral', sealed: second, last_four: '3456', updated_at: 'x' });
    await expect(identity.getProviderKey('pk-b', 'mistral')).rejects.toThrow();
    // Tampered: one byte of the ciphertext flipped.
    const [v, iv, ct, tag] = second.split('.');
    const bytes = Buffer.from(ct, 'base64url');
    bytes[0] ^= 1;
    await docs.put({ _id: 'pk-b/anthropic', tenant_id: 'pk-b', provider: 'anthropic', sealed: [v, iv, bytes.toString('base64url'), tag].join('.'), last_four: 'x', updated_at: 'x' });
    await expect(identity.getProviderKey('pk-b', 'anthropic')).rejects.toThrow();
    await docs.delete('pk-b/mistral');
    await docs.delete('pk-b/anthropic');
  });

  it('removes a key', async () => {
    expect((await t.request('DELETE', '/api/tenant/provider-keys/exa', { key: keyA })).status).toBe(204);
    expect((await t.request('DELETE', '/api/tenant/provider-keys/exa', { key: keyA })).status).toBe(404);
    expect(await t.app.get(IdentityFacade).getProviderKey('pk-a', 'exa')).toBeNull();
  });

  it('refuses to start with stored provider keys and no master key, naming TOLLGATE_MASTER_KEY', async () => {
    const dir = t.dataDir;
    await t.close();
    await expect(startTestApp({ dataDir: dir, env: { TOLLGATE_MASTER_KEY: '' } })).rejects.toMatchObject({ name: 'StartupError', message: expect.stringContaining('TOLLGATE_MASTER_KEY') });
    await expect(startTestApp({ dataDir: dir, env: { TOLLGATE_MASTER_KEY: 'ab'.repeat(32) } })).rejects.toMatchObject({ name: 'StartupError', message: expect.stringContaining('does not decrypt') });
    t = await startTestApp({ dataDir: dir });
    expect(await t.app.get(IdentityFacade).getProviderKey('pk-a', 'openai')).toBe(SECRET);
  });
});
