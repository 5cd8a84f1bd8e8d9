import { hash as digest, randomUUID } from 'crypto';

/**
 * Name-based ids: the same name always gives the same id, so appending an event under such an id is idempotent.
 * Each caller keeps its own namespace (stored ids depend on it: never change one).
 */

/** RFC 4122 version 5 (SHA-1, name-based) UUID of `name` in `namespace` (16 bytes). */
export function uuidV5(name: string, namespace: Buffer): string {
  const hash = digest('sha1', Buffer.concat([namespace, Buffer.from(name, 'utf8')]), 'buffer');
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * A UUID-shaped id from the SHA-256 of `name` (version nibble 5, RFC variant). The price catalog's and the plans'
 * seed events were stored under these ids, so the scheme stays as it is.
 */
export function sha256Uuid(name: string): string {
  const h = digest('sha256', name, 'hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A UUIDv7 (RFC 9562: 48-bit Unix milliseconds, version 7, then random bits): ids made one after another sort
 * together. Built on crypto.randomUUID, which draws from a cached pool of entropy; the `uuid` package's v7 fills 16
 * fresh random bytes per id (randomFillSync), which was 6 % of the gateway's HTTP thread. Ids made in the same
 * millisecond are not ordered among themselves (no counter): neighbours in an index is what they are for.
 */
export function uuidV7(now: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep the 74 random bits after the version
  const ms = now.toString(16).padStart(12, '0');
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-7${random.slice(15)}`;
}
