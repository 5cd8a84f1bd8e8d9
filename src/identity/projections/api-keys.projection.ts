import { Injectable } from '@nestjs/common';
import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch, ReadStore } from '../../../libs/read-store/port';
import { ApiKeyEvent } from '../domain/api-key';

export const API_KEYS = 'api_keys';

export type ApiKeyDoc = {
  _id: string;
  key_id: string;
  role: 'tenant' | 'user';
  tenant_id: string;
  user_id: string | null;
  key_hash: string;
  prefix: string;
  last_four: string;
  issued_at: string;
  revoked_at: string | null;
};

/** Issued keys by id, with their hash for authentication (never the key). */
@Injectable()
export class ApiKeysProjection implements Projection {
  readonly name = 'api_keys';
  readonly eventTypes = ['ApiKeyIssued', 'ApiKeyRevoked'];
  readonly collections = [API_KEYS];
  /** Set by the key registry: revocations seen here (possibly made by another instance) evict cached keys. */
  onRevoked: ((keyHashes: string[]) => void) | null = null;

  async setup(store: ReadStore): Promise<void> {
    await store.collection(API_KEYS).ensureIndex(['key_hash']);
    await store.collection(API_KEYS).ensureIndex(['tenant_id', 'user_id']);
  }

  async handle(stored: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const event = { type: stored.type, data: stored.data } as ApiKeyEvent;
    const docs = batch.collection<ApiKeyDoc>(API_KEYS);
    switch (event.type) {
      case 'ApiKeyIssued': {
        const d = event.data;
        await docs.put({ _id: d.key_id, key_id: d.key_id, role: d.role, tenant_id: d.tenant_id, user_id: d.user_id, key_hash: d.key_hash, prefix: d.prefix, last_four: d.last_four, issued_at: d.issued_at, revoked_at: null });
        return;
      }
      case 'ApiKeyRevoked':
        await docs.upsert(event.data.key_id, { set: { revoked_at: event.data.revoked_at } });
        return;
      default: {
        const unexpected: never = event;
        return unexpected;
      }
    }
  }

  afterCommit(events: StoredEvent[]): void {
    const revoked = events.filter((e) => e.type === 'ApiKeyRevoked').map((e) => (e.data as { key_hash: string }).key_hash);
    if (revoked.length) this.onRevoked?.(revoked);
  }
}
