import { appendSearches, eventually, tenantWithKey } from '../fakes/recorded-usage';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Webhooks an operator can trust: retries follow the tenant's fix, the secret changes only when asked, a test delivery. */
describe('Webhooks a tenant can trust (loopback receivers: private addresses allowed)', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  const SECRET = 'whsec_first_secret_0123456789';

  async function tenant(id: string) {
    keys[id] = await tenantWithKey(t, id, 'hooky');
  }

  const usage = (tenantId: string, user: string, n: number) => appendSearches(t, tenantId, user, n);

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z', env: { TOLLGATE_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.request('PUT', '/api/admin/plans/hooky', { key: TEST_ADMIN_KEY, body: { name: 'Hooky', monthly_price: 5, yearly_price: 50, limits: { tavily_calls: 10 }, alert_thresholds: [80] } });
    await tenant('fix-shop');
    await tenant('test-shop');
  });
  afterAll(async () => t?.close());

  it('sends the retry of a failed delivery to the URL the tenant fixed, signed with the secret it kept', async () => {
    const broken = new WebhookReceiver({ secret: SECRET, failFirst: 1000 });
    const fixed = new WebhookReceiver({ secret: SECRET });
    const brokenUrl = await broken.start();
    const fixedUrl = await fixed.start();
    try {
      expect((await t.request('PUT', '/api/tenant/webhooks', { key: keys['fix-shop'], body: { url: brokenUrl, secret: SECRET } })).status).toBe(200);
      await usage('fix-shop', 'ann', 8);
      await t.settle();
      await broken.waitFor(1);
      await eventually(async () => (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['fix-shop'] })).body.deliveries.length === 1);
      // The tenant fixes the URL (no secret given: the endpoint keeps its own).
      const put = await t.request('PUT', '/api/tenant/webhooks', { key: keys['fix-shop'], body: { url: fixedUrl } });
      expect(put.status).toBe(200);
      expect(put.body.secret).toBeUndefined();
      t.clock.advance(30_000);
      await fixed.waitFor(1);
      expect(fixed.received.map((r) => [r.answered, r.signatureValid, r.headers['x-tollgate-attempt']])).toEqual([[200, true, '2']]);
      expect(broken.received).toHaveLength(1);
      await eventually(async () => (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['fix-shop'] })).body.deliveries.length === 2);
      const log = (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['fix-shop'] })).body.deliveries;
      expect(log.map((d: { attempt: number; url: string; ok: boolean }) => [d.attempt, d.url, d.ok])).toEqual([[2, fixedUrl, true], [1, brokenUrl, false]]);
    } finally {
      await broken.stop();
      await fixed.stop();
    }
  });

  it('answers a test delivery, signed like a real one, with its result, logs it, and changes the secret only on rotate-secret', async () => {
    const receiver = new WebhookReceiver({ secret: SECRET });
    const url = await receiver.start();
    try {
      expect((await t.request('POST', '/api/tenant/webhooks/test', { key: keys['test-shop'] })).status).toBe(404);
      expect((await t.request('PUT', '/api/tenant/webhooks', { key: keys['test-shop'], body: { url, secret: SECRET } })).status).toBe(200);
      const test = await t.request('POST', '/api/tenant/webhooks/test', { key: keys['test-shop'] });
      expect(test.status).toBe(200);
      expect(test.body).toMatchObject({ ok: true, status_code: 200, error: null, url, alert_id: 'test', attempt: 1 });
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].signatureValid).toBe(true);
      expect(receiver.received[0].json).toMatchObject({ type: 'test', delivery_id: test.body.delivery_id, tenant_id: 'test-shop' });
      await t.settle();
      const log = (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['test-shop'] })).body.deliveries;
      expect(log).toEqual([expect.objectContaining({ delivery_id: test.body.delivery_id, ok: true, status_code: 200, alert_id: 'test' })]);

      // Re-saving the URL keeps the secret: the receiver still verifies.
      expect((await t.request('PUT', '/api/tenant/webhooks', { key: keys['test-shop'], body: { url } })).body.secret).toBeUndefined();
      expect((await t.request('POST', '/api/tenant/webhooks/test', { key: keys['test-shop'] })).body).toMatchObject({ ok: true, status_code: 200 });

      // rotate-secret issues a new one (shown once); the receiver that knows only the old one now refuses.
      const rotated = await t.request('POST', '/api/tenant/webhooks/rotate-secret', { key: keys['test-shop'] });
      expect(rotated.status).toBe(200);
      expect(rotated.body).toMatchObject({ url, secret: expect.stringMatching(/^whsec_/) });
      expect(rotated.body.secret).not.toBe(SECRET);
      expect((await t.request('POST', '/api/tenant/webhooks/test', { key: keys['test-shop'] })).body).toMatchObject({ ok: false, status_code: 401, error: 'HTTP 401' });
      const newReceiver = new WebhookReceiver({ secret: rotated.body.secret });
      const newUrl = await newReceiver.start();
      try {
        expect((await t.request('PUT', '/api/tenant/webhooks', { key: keys['test-shop'], body: { url: newUrl } })).status).toBe(200);
        expect((await t.request('POST', '/api/tenant/webhooks/test', { key: keys['test-shop'] })).body).toMatchObject({ ok: true, status_code: 200 });
        expect(newReceiver.received[0].signatureValid).toBe(true);
      } finally {
        await newReceiver.stop();
      }
    } finally {
      await receiver.stop();
    }
  });

  it('refuses rotate-secret without an endpoint, and a user key on the webhook routes', async () => {
    await tenant('none-shop');
    const r = await t.request('POST', '/api/tenant/webhooks/rotate-secret', { key: keys['none-shop'] });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
    const userKey = (await t.request('POST', '/api/tenant/keys', { key: keys['test-shop'], body: { user_id: 'u1' } })).body.key;
    for (const p of ['test', 'rotate-secret']) expect((await t.request('POST', `/api/tenant/webhooks/${p}`, { key: userKey })).status).toBe(403);
  });
});
