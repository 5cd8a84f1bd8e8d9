import { uuidV5 as nameBasedUuid } from '../../../libs/ids/name-based-uuid';

/** Tollgate's namespace for usage event ids (a fixed random UUID). */
const USAGE_NAMESPACE = Buffer.from('7b3f6c1e4a2d4e8f9c0a5d6b1e2f3a4b', 'hex');

/** RFC 4122 version 5 (SHA-1, name-based) UUID: the same name always gives the same id. */
export function uuidV5(name: string, namespace: Buffer = USAGE_NAMESPACE): string {
  return nameBasedUuid(name, namespace);
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A name-based id that keeps the time order of a UUIDv7 usage id (the gateway's request ids are UUIDv7): the v7's
 * 48-bit millisecond prefix, then the rest of the name's v5 UUID. Still a function of the name alone, so a retry
 * appends nothing new; ids stored one after another sit side by side in the event store's unique index, where random
 * ids make every insert touch (and write to the WAL) a page of its own. Any other usage id keeps its plain v5 id.
 */
function eventId(kind: string, tenantId: string, usageId: string): string {
  const v5 = uuidV5(`${kind}\u0000${tenantId}\u0000${usageId}`);
  return UUID_V7.test(usageId) ? usageId.slice(0, 13).toLowerCase() + v5.slice(13) : v5;
}

/** The event id of a reported event (and, before gateway calls had their own, of every record): a repeated report appends nothing new. */
export const usageEventId = (tenantId: string, usageId: string) => eventId('UsageRecorded', tenantId, usageId);
/** The event id of a gateway call's record: a retry appends nothing new, and no report's id can give it. */
export const gatewayUsageEventId = (tenantId: string, usageId: string) => eventId('GatewayUsageRecorded', tenantId, usageId);
/** The event id of a refusal (one per refused request). */
export const refusalEventId = (tenantId: string, usageId: string) => eventId('UsageRefused', tenantId, usageId);
