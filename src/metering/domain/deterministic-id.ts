import { uuidV5 as nameBasedUuid } from '../../../libs/ids/name-based-uuid';

/** Tollgate's namespace for usage event ids (a fixed random UUID). */
const USAGE_NAMESPACE = Buffer.from('7b3f6c1e4a2d4e8f9c0a5d6b1e2f3a4b', 'hex');

/** RFC 4122 version 5 (SHA-1, name-based) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace: Buffer = USAGE_NAMESPACE): string {
  return nameBasedUuid(name, namespace);
}

/** The event id of a recorded call or reported event: a retry or a repeated report appends nothing new. */
export const usageEventId = (tenantId: string, usageId: string) => uuidV5(`UsageRecorded\u0000${tenantId}\u0000${usageId}`);
/** The event id of a refusal (one per refused request). */
export const refusalEventId = (tenantId: string, usageId: string) => uuidV5(`UsageRefused\u0000${tenantId}\u0000${usageId}`);
