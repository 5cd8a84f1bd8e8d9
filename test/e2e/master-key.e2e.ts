import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { IdentityFacade } from '../../src/identity';
import { WebhooksService } from '../../src/alerts/application/webhooks.service';
import { rotateMasterKey } from '../../src/cli/master-key-rotate';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

const SECRET = 'sk-live-provider-secret-abcdef123456';
const HOOK_SECRET = 'whsec_test_secret_0123456789';
const noEnvKey = { TOLLGATE_MASTER_KEY: '', TOLLGATE_WEBHOOK_ALLOW_PRIVATE: '1' };

async function tenantKey(t: TestApp, tenant: string): Promise<string> {
  await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: tenant, name: tenant } });
  return (await t.request('POST', `/api/admin/tenants/${tenant}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
}

describe('The master key: created by the first start, kept in DATA_DIR/master.key, rotated by a command', () => {
  let dir: string;
  let t: TestApp | null = null;
  let key: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-mk-'));
  });
  afterEach(async () => {
    await t?.close();
    t = null;
  });

  it('given no TOLLGATE_MASTER_KEY, when Tollgate starts the first time, then it creates master.key (0600, 64 hex) and a tenant can store a provider key', async () => {
    t = await startTestApp({ dataDir: dir, env: noEnvKey });
    const file = path.join(dir, 'master.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    key = await tenantKey(t, 'mk-shop');
    const put = await t.request('PUT', '/api/tenant/provider-keys/openai', { key, body: { api_key: SECRET } });
    expect(put.status).toBe(200);
    expect((await t.request('PUT', '/api/tenant/webhooks', { key, body: { url: 'http://127.0.0.1:9/hook', secret: HOOK_SECRET } })).status).toBe(200);
    expect(await t.app.get(IdentityFacade).getProviderKey('mk-shop', 'openai')).toBe(SECRET);
    await t.settle();
  });

  it('given master.key from the first start, when Tollgate starts again, then it uses that key (the stored key decrypts) and leaves the file as it was', async () => {
    const before = fs.readFileSync(path.join(dir, 'master.key'), 'utf8');
    t = await startTestApp({ dataDir: dir, env: noEnvKey });
    expect(await t.app.get(IdentityFacade).getProviderKey('mk-shop', 'openai')).toBe(SECRET);
    expect(fs.readFileSync(path.join(dir, 'master.key'), 'utf8')).toBe(before);
  });

  it('given a TOLLGATE_MASTER_KEY that did not seal the stored keys, when Tollgate starts, then the set variable wins and the start fails naming it', async () => {
    await expect(startTestApp({ dataDir: dir, env: { TOLLGATE_MASTER_KEY: 'ab'.repeat(32) } })).rejects.toMatchObject({
      name: 'StartupError',
      message: expect.stringContaining('TOLLGATE_MASTER_KEY does not decrypt the stored provider keys'),
    });
  });

  it('given the key in master.key, when it is rotated with no --new, then every provider key and webhook secret opens under the new key in master.key, and a second run changes nothing', async () => {
    const file = path.join(dir, 'master.key');
    const old = fs.readFileSync(file, 'utf8').trim();
    const env = { DATA_DIR: dir, TOLLGATE_SQLITE_SYNC: 'normal' };
    const report = await rotateMasterKey(env, []);
    expect(report).toEqual({ providerKeys: { rotated: 1, already: 0 }, webhookSecrets: { rotated: 1, already: 0 }, newKeyAt: file });
    const next = fs.readFileSync(file, 'utf8').trim();
    expect(next).toMatch(/^[0-9a-f]{64}$/);
    expect(next).not.toBe(old);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${file}.new`)).toBe(false);

    t = await startTestApp({ dataDir: dir, env: noEnvKey });
    expect(await t.app.get(IdentityFacade).getProviderKey('mk-shop', 'openai')).toBe(SECRET);
    expect((await t.app.get(WebhooksService, { strict: false }).endpoint('mk-shop'))?.secret).toBe(HOOK_SECRET);
    await t.settle();
    await t.close();
    t = null;
    await expect(startTestApp({ dataDir: dir, env: { TOLLGATE_MASTER_KEY: old } })).rejects.toMatchObject({ name: 'StartupError' });
  });

  it('given TOLLGATE_MASTER_KEY, when rotated without --new, then it refuses and changes nothing; with --new, the new key opens everything', async () => {
    const current = fs.readFileSync(path.join(dir, 'master.key'), 'utf8').trim();
    const env = { DATA_DIR: dir, TOLLGATE_SQLITE_SYNC: 'normal', TOLLGATE_MASTER_KEY: current };
    await expect(rotateMasterKey(env, [])).rejects.toThrow('pass the new key with --new');
    await expect(rotateMasterKey(env, ['--new', 'xyz'])).rejects.toThrow('64 hex characters');
    const next = 'cd'.repeat(32);
    expect(await rotateMasterKey(env, ['--new', next])).toEqual({ providerKeys: { rotated: 1, already: 0 }, webhookSecrets: { rotated: 1, already: 0 }, newKeyAt: 'TOLLGATE_MASTER_KEY' });
    // Run again (as after an interruption): everything is already under the new key.
    expect(await rotateMasterKey(env, ['--new', next])).toEqual({ providerKeys: { rotated: 0, already: 1 }, webhookSecrets: { rotated: 0, already: 1 }, newKeyAt: 'TOLLGATE_MASTER_KEY' });
    t = await startTestApp({ dataDir: dir, env: { TOLLGATE_MASTER_KEY: next } });
    expect(await t.app.get(IdentityFacade).getProviderKey('mk-shop', 'openai')).toBe(SECRET);
    expect((await t.app.get(WebhooksService, { strict: false }).endpoint('mk-shop'))?.secret).toBe(HOOK_SECRET);
  });

  it('given stored keys and neither TOLLGATE_MASTER_KEY nor master.key, when Tollgate starts, then it refuses, names both, and leaves no new master.key behind', async () => {
    fs.rmSync(path.join(dir, 'master.key'));
    await expect(startTestApp({ dataDir: dir, env: noEnvKey })).rejects.toMatchObject({ name: 'StartupError', message: expect.stringMatching(/TOLLGATE_MASTER_KEY is not set and .*master\.key does not exist/) });
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
  });
});
