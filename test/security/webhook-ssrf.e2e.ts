import * as http from 'http';
import { AddressInfo } from 'net';
import { randomUUID } from 'crypto';
import { EVENT_STORE, EventStore } from '../../libs/event-store/port';
import { seal } from '../../src/alerts/infrastructure/secret-box';
import { appendSearches, eventually, tenantWithKey } from '../fakes/recorded-usage';
import { WebhookReceiver } from '../fakes/webhook-receiver';
import { startTestApp, TEST_ADMIN_KEY, TEST_MASTER_KEY, TestApp } from '../support/test-app';

/** Hosts a webhook must never reach: the metadata service, loopback ports, private networks, in every spelling. */
const INTERNAL_URLS = [
  'http://169.254.169.254/latest/meta-data/',
  'http://127.0.0.1:22/',
  'http://localhost:3000/hook',
  'http://LOCALHOST./hook',
  'http://api.localhost/hook',
  'http://10.1.2.3/hook',
  'http://172.16.0.1/hook',
  'http://192.168.1.1/hook',
  'http://100.64.0.1/hook',
  'http://0.0.0.0/hook',
  'http://0/hook',
  'http://2130706433/hook', // 127.0.0.1 in decimal
  'http://0x7f.1/hook', // in hex
  'http://0177.0.0.1/hook', // in octal
  'http://[::1]/hook',
  'http://[::]/hook',
  'http://[::ffff:127.0.0.1]/hook', // IPv4-mapped IPv6
  'http://[::ffff:a9fe:a9fe]/hook', // 169.254.169.254, mapped
  'http://[fe80::1]/hook',
  'http://[fd12:3456::1]/hook',
  'http://224.0.0.1/hook',
  'http://[ff02::1]/hook',
  'http://metadata/computeMetadata/v1/', // a single-label name resolves through the search domains
];

describe('Webhooks go only to public addresses', () => {
  let t: TestApp;
  let es: EventStore;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z' });
    es = t.app.get<EventStore>(EVENT_STORE);
    await t.request('PUT', '/api/admin/plans/hooky', { key: TEST_ADMIN_KEY, body: { name: 'Hooky', monthly_price: 5, yearly_price: 50, limits: { tavily_calls: 10 } } });
    for (const id of ['ssrf-shop', 'old-shop']) {
      keys[id] = await tenantWithKey(t, id, 'hooky');
    }
  });
  afterAll(async () => t?.close());

  it.each(INTERNAL_URLS)('refuses to configure a webhook aimed inside the network: %s', async (url) => {
    const before = await es.readStream('webhook-ssrf-shop');
    const r = await t.request('PUT', '/api/tenant/webhooks', { key: keys['ssrf-shop'], body: { url, secret: 'whsec_test_secret_0123456789' } });
    expect(r.status).toBe(422);
    expect(r.body.error).toEqual({ code: 'validation_failed', message: expect.any(String), details: expect.anything() });
    expect(await es.readStream('webhook-ssrf-shop')).toEqual(before);
    expect((await t.request('GET', '/api/tenant/webhooks', { key: keys['ssrf-shop'] })).status).toBe(404);
  });

  it('refuses at delivery an endpoint that points inside the network (stored before the rule), and logs a short reason', async () => {
    const receiver = new WebhookReceiver({ secret: 'whsec_test_secret_0123456789' });
    const url = await receiver.start(); // http://127.0.0.1:<port>/...
    try {
      // The endpoint as an older version stored it: no check then.
      await es.append('webhook-old-shop', [
        {
          id: randomUUID(),
          type: 'WebhookConfigured',
          data: { tenant_id: 'old-shop', url, secret_sealed: seal(Buffer.from(TEST_MASTER_KEY, 'hex'), 'whsec_test_secret_0123456789'), configured_at: t.clock.now().toISOString() },
          metadata: { occurredAt: t.clock.now().toISOString() },
        },
      ]);
      await appendSearches(t, 'old-shop', 'ann', 8);
      await t.settle();
      await eventually(async () => (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['old-shop'] })).body.deliveries.length >= 1);
      const log = (await t.request('GET', '/api/tenant/webhooks/deliveries', { key: keys['old-shop'] })).body.deliveries;
      expect(log[0]).toMatchObject({ status_code: null, ok: false, error: 'refused: the receiver’s address is not public' });
      expect(receiver.received).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });
});

describe('The delivery log does not answer like a port scanner (private addresses allowed for the test)', () => {
  let t: TestApp;
  let key: string;

  beforeAll(async () => {
    t = await startTestApp({ now: '2025-03-10T12:00:00.000Z', env: { TOLLGATE_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: 'scan-shop', name: 'scan-shop' } });
    key = (await t.request('POST', '/api/admin/tenants/scan-shop/keys', { key: TEST_ADMIN_KEY, body: { role: 'tenant' } })).body.key;
  });
  afterAll(async () => t?.close());

  it('shows a closed port as a short reason, not the socket error (ECONNREFUSED...)', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    expect((await t.request('PUT', '/api/tenant/webhooks', { key, body: { url: `http://127.0.0.1:${port}/x`, secret: 'whsec_test_secret_0123456789' } })).status).toBe(200);
    const r = await t.request('POST', '/api/tenant/webhooks/test', { key });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, status_code: null, error: 'could not connect to the receiver' });
    await t.settle();
    const log = (await t.request('GET', '/api/tenant/webhooks/deliveries', { key })).body.deliveries;
    expect(log.map((d: { error: string }) => d.error)).toEqual(['could not connect to the receiver']);
    expect(JSON.stringify(log)).not.toMatch(/ECONN|fetch failed|socket/i);
  });

  it('does not follow a redirect (to the metadata service, say)', async () => {
    const target = new WebhookReceiver({ secret: 'whsec_test_secret_0123456789' });
    const targetUrl = await target.start();
    const redirector = http.createServer((req, res) => res.writeHead(302, { location: targetUrl }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hook`;
      expect((await t.request('PUT', '/api/tenant/webhooks', { key, body: { url } })).status).toBe(200);
      const r = await t.request('POST', '/api/tenant/webhooks/test', { key });
      expect(r.body).toMatchObject({ ok: false, status_code: 302, error: 'HTTP 302' });
      expect(target.received).toEqual([]);
    } finally {
      await target.stop();
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });
});
