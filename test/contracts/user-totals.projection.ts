import { StoredEvent } from '../../libs/event-store/port';
import { Projection } from '../../libs/projections';

/** Per-user totals of `UsageRecorded` tokens: the projection the contract, the crash drill and the benchmark share. */
export function userTotalsProjection(name: string, collection: string): Projection {
  return {
    name,
    eventTypes: ['UsageRecorded'],
    collections: [collection],
    async setup(store) {
      await store.collection(collection).ensureIndex(['total']);
    },
    async handle(e: StoredEvent, batch) {
      const d = e.data as { user_id: string; tokens: number };
      await batch.collection(collection).upsert(d.user_id, { inc: { total: d.tokens, calls: 1 }, max: { last_position: Number(e.position) }, setOnInsert: { first_position: Number(e.position) } });
    },
  };
}
