import * as http from 'http';
import { AddressInfo } from 'net';
import { Agent, request } from 'undici';
import { isPublicAddress, publicOnlyLookup, WebhookAddressRefused } from './webhook-address';

describe('Webhook addresses', () => {
  it('counts loopback, private, link-local, unique-local, multicast and unspecified space as not public', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.251', '255.255.255.255',
      '::', '::1', 'fe80::1', 'fc00::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::ffff:10.0.0.1', '64:ff9b::a00:1', '2001:db8::1'])
      expect({ a, public: isPublicAddress(a) }).toEqual({ a, public: false });
  });

  it('counts public unicast addresses as public', () => {
    for (const a of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'])
      expect({ a, public: isPublicAddress(a) }).toEqual({ a, public: true });
  });

  it('refuses, in the socket’s own lookup, a name that resolves to loopback (what DNS rebinding would serve)', async () => {
    const err = await new Promise<unknown>((resolve) => publicOnlyLookup('localhost', { all: true }, (e) => resolve(e)));
    expect(err).toBeInstanceOf(WebhookAddressRefused);
  });

  it('keeps a delivery socket from connecting to a name that resolves to loopback, though a server listens there', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => (hits++, res.end('ok')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const agent = new Agent({ connect: { lookup: publicOnlyLookup } });
    try {
      // localhost resolves to loopback, as a rebinding name would (the URL check refuses it earlier by name; this is the socket's own guard).
      const err = await request(`http://localhost:${(server.address() as AddressInfo).port}/`, { dispatcher: agent, method: 'POST', body: '{}' }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WebhookAddressRefused);
      expect(hits).toBe(0);
    } finally {
      await agent.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
