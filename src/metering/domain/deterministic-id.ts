import { createHash } from 'crypto';

/** Tollgate's namespace for usage event ids (a fixed random UUID). */
const USAGE_NAMESPACE = Buffer.from('7b3f6c1e4a2d4e8f9c0a5d6b1e2f3a4b', 'hex');

/** RFC 4122 version 5 (SHA-1, name-based) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace: Buffer = USAGE_NAMESPACE): string {
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const h = hash.toString('hex', 0, 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The event id of a recorded call or reported event: a retry or a repeated report appends nothing new. */
export const usageEventId = (tenantId: string, usageId: string) => uuidV5(`UsageRecorded\u0000${tenantId}\u0000${usageId}`);
/** The event id of a refusal (one per refused request). */
export const refusalEventId = (tenantId: string, usageId: string) => uuidV5(`UsageRefused\u0000${tenantId}\u0000${usageId}`);
