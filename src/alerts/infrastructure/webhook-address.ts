import { lookup as dnsLookup, LookupAddress, LookupOptions } from 'dns';
import { BlockList, isIP } from 'net';

/**
 * Where a webhook may go: public unicast addresses only. A tenant chooses the URL, so without this rule Tollgate would
 * POST (and report the outcome of) requests to the cloud metadata service, its own loopback ports or the private
 * network it runs in.
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", incl. 0.0.0.0 (unspecified)
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT (shared address space)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata at 169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, incl. 255.255.255.255
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated)
  ['64:ff9b::', 96], // NAT64 (it reaches an IPv4 address through a translator: refused whole)
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4 (likewise)
  ['fc00::', 7], // unique-local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

/** The IPv4 address an IPv6 address carries (IPv4-mapped ::ffff:a.b.c.d), or null. */
function embeddedIpv4(v6: string): string | null {
  const m = /^::ffff:(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(v6);
  if (!m) return null;
  if (m[1]) return m[1];
  const hi = parseInt(m[2], 16);
  const lo = parseInt(m[3], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Whether an IP address (v4 or v6 literal, no brackets) is public unicast space. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !NOT_PUBLIC.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address.toLowerCase());
    if (v4 !== null) return isPublicAddress(v4);
    return !NOT_PUBLIC.check(address, 'ipv6');
  }
  return false;
}

/** Why a webhook URL was refused (the code the API and the delivery log show). */
export class WebhookAddressRefused extends Error {
  readonly code = 'TOLLGATE_WEBHOOK_ADDRESS_REFUSED';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The host of a URL as an IP literal (brackets stripped), or null for a name. The URL parser already normalised 0x7f.1, 2130706433... */
function literalHost(url: URL): string | null {
  const h = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(h) ? h : null;
}

/** Parses and checks a webhook URL without resolving it: scheme, no credentials, and a literal address must be public. */
export function checkWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookAddressRefused('the url is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookAddressRefused('the url must be http or https');
  if (url.username || url.password) throw new WebhookAddressRefused('the url must not carry credentials');
  const literal = literalHost(url);
  if (literal !== null && !isPublicAddress(literal)) throw new WebhookAddressRefused(`the host ${url.hostname} is not a public address`);
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (literal === null && (name === 'localhost' || name.endsWith('.localhost') || !name.includes('.')))
    throw new WebhookAddressRefused(`the host ${url.hostname} is not a public name`);
  return url;
}

/** Every address a name resolves to. */
function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/** Checks a webhook URL as configured: the literal host, or every address its name resolves to, must be public. */
export async function assertPublicWebhookUrl(raw: string): Promise<void> {
  const url = checkWebhookUrl(raw);
  if (literalHost(url) !== null) return;
  let addresses: LookupAddress[];
  try {
    addresses = await resolveAll(url.hostname);
  } catch {
    throw new WebhookAddressRefused(`the host ${url.hostname} does not resolve`);
  }
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad || addresses.length === 0) throw new WebhookAddressRefused(`the host ${url.hostname} resolves to an address that is not public`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for the delivery's socket: resolves the name once, refuses it when any address is not public, and hands
 * the socket exactly the addresses it checked (a name that resolves elsewhere on a second lookup cannot slip past).
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  resolveAll(hostname).then(
    (addresses) => {
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
      const usable = addresses.filter((a) => !family || a.family === family);
      if (usable.length === 0 || addresses.some((a) => !isPublicAddress(a.address))) {
        callback(new WebhookAddressRefused(`the host ${hostname} resolves to an address that is not public`) as unknown as NodeJS.ErrnoException, '');
        return;
      }
      if (options.all) callback(null, usable);
      else callback(null, usable[0].address, usable[0].family);
    },
    (err: NodeJS.ErrnoException) => callback(err, ''),
  );
}
