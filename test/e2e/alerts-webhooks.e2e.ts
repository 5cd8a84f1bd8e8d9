import { appendSearches, eventually, tenantWithKey } from '../fakes/recorded-usage';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { startTestApp, TEST_ADMIN_KEY, TestApp } from '../support/test-app';

/** Signed webhook deliveries, retried with backoff (on the fake clock), every attempt in the tenant's delivery log. */
describe('Alert webhooks', () => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  const secret = 'whsec_test_secret_0123456789';

  async function tenant(id: string) {
    keys[id] = await tenantWithKey(t, id, 'hooky');
  }

  const usage = (tenantId: string, user: string, n: number) => appendSearches(t, tenantId, user, n);

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z', env: { TOLLGATE_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.request('PUT', '/api/admin/plans/hooky', {
      key: TEST_ADMIN_KEY,
      body: { name: 'Hooky', monthly_price: 5, yearly_price: 50, limits: { tavily_calls: 10 }, alert_thresholds: [80, 90, 100] },
    });
    await tenant('hook-shop');
    await tenant('dead-shop');
  });
  afterAll(async () => t?.close());

  it('are signed, retried after failures with backoff, and logged attempt by attempt', async () => {
    const receiver = new WebhookReceiver({ secret, failFirst: 2 });
    const url = await receiver.start();
    try {
      const put = await t.request('PUT', '/api/tenant/webhooks', { key: keys['hook-shop'], body: { url, secret } });
      expect(put.status).toBe(200);
      expect(put.body).toEqual({ url, configured_at: '2025-03-10T12:00:00.000Z' });
      expect((await t.request('GET', '/api/tenant/webhooks', { key: keys['hook-shop'] })).body).toEqual({ url, configured_at: '2025-03-10T12:00:00.000Z' });

      await usage('hook-shop', 'alice', 8); // 80 percent of tavily_calls
      await t.settle();
      await receiver.waitFor(1);
      expect(receiver.received[0].answered).toBe(500);

      // Not before the backoff (30 s) has passed on the clock.
      await new Promise((r) => setTimeout(r, 600));
      expect(receiver.received).toHaveLength(1);
      t.clock.advance(30_000);
      await receiver.waitFor(2);
      t.clock.advance(60_000);
      await receiver.waitFor(3);
      // The attempt is recorded once the receiver has answered.
      await eventually(async () => (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['hook-shop'] })).body.deliveries.length === 3);

      expect(receiver.received.map((r) => [r.answered, r.signatureValid])).toEqual([[500, true], [500, true], [200, true]]);
      const delivery = receiver.received[2];
      expect(delivery.headers['x-tollgate-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(delivery.headers['x-tollgate-timestamp']).toBe(String(Math.floor(new Date('2025-03-10T12:01:30.000Z').getTime() / 1000)));
      expect(delivery.json).toEqual({
        type: 'usage_alert',
        delivery_id: expect.any(String),
        alert: expect.objectContaining({
          tenant_id: 'hook-shop', user_id: 'alice', limit: 'tavily_calls', threshold: 80, severity: 'info', value: 8, limit_value: 10,
          title: 'API Usage Notice - Tavily', message: 'You have used 8 of 10 Tavily API calls',
        }),
      });
      // Every attempt sent the same body for the same alert.
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);

      const log = await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['hook-shop'] });
      expect(log.status).toBe(200);
      expect(log.body.deliveries.map((d: any) => [d.attempt, d.status_code, d.ok, d.gave_up])).toEqual([
        [3, 200, true, false],
        [2, 500, false, false],
        [1, 500, false, false],
      ]);
      expect(log.body.deliveries[2]).toMatchObject({ url, error: 'HTTP 500', attempted_at: '2025-03-10T12:00:00.000Z', next_attempt_at: '2025-03-10T12:00:30.000Z', alert_id: delivery.json.alert.alert_id });
      expect(log.body.deliveries[1]).toMatchObject({ attempted_at: '2025-03-10T12:00:30.000Z', next_attempt_at: '2025-03-10T12:01:30.000Z' });
      expect(log.body.deliveries[0]).toMatchObject({ next_attempt_at: null, error: null });

      // Another tenant sees none of it.
      expect((await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['dead-shop'] })).body.deliveries).toEqual([]);
      // No more deliveries for a delivered alert, however far the clock goes.
      t.clock.advance(3_600_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.received).toHaveLength(3);
    } finally {
      await receiver.stop();
      t.clock.set('2025-03-10T12:00:00.000Z');
    }
  });

  it('never delay the calls being recorded when the receiver is dead', async () => {
    const dead = new WebhookReceiver({ secret, hang: true });
    const url = await dead.start();
    try {
      await t.request('PUT', '/api/tenant/webhooks', { key: keys['dead-shop'], body: { url, secret } });
      await usage('dead-shop', 'bob', 10); // 80, 90 and 100 percent: three deliveries hang
      await t.settle();
      const started = performance.now();
      const r = await t.request('POST', '/api/usage/events', {
        key: keys['dead-shop'],
        body: { events: [{ id: 'after-dead-hook', user_id: 'carol', provider: 'tavily', model: 'search', units: 1, occurred_at: t.clock.now().toISOString() }] },
      });
      const ms = performance.now() - started;
      expect(r.status).toBe(200);
      expect(ms).toBeLessThan(1000);
      const dash = await t.request('GET', '/api/subscription/dashboard/bob', { key: keys['dead-shop'] });
      expect(dash.status).toBe(200);
    } finally {
      await dead.stop();
    }
  });

  it('generate a secret for a first endpoint when none is given, validate the url, and can be removed', async () => {
    expect((await t.request('DELETE', '/api/tenant/webhooks', { key: keys['dead-shop'] })).status).toBe(204);
    const put = await t.request('PUT', '/api/tenant/webhooks', { key: keys['dead-shop'], body: { url: 'https://example.com/hook' } });
    expect(put.status).toBe(200);
    expect(put.body.secret).toMatch(/^whsec_/);
    expect((await t.request('PUT', '/api/tenant/webhooks', { key: keys['dead-shop'], body: { url: 'not a url' } })).status).toBe(422);
    expect((await t.request('PUT', '/api/tenant/webhooks', { key: TEST_ADMIN_KEY, body: { url: 'https://example.com/hook' } })).status).toBe(403);
    expect((await t.request('DELETE', '/api/tenant/webhooks', { key: keys['dead-shop'] })).status).toBe(204);
    expect((await t.request('GET', '/api/tenant/webhooks', { key: keys['dead-shop'] })).status).toBe(404);
  });
});
