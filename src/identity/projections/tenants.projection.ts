import { Injectable } from '@nestjs/common';
import { StoredEvent } from '../../../libs/event-store/port';
import { Projection } from '../../../libs/projections';
import { ProjectionBatch } from '../../../libs/read-store/port';
import { TenantEvent } from '../domain/tenant';

export const TENANTS = 'tenants';

export type TenantDoc = {
  _id: string;
  tenant_id: string;
  name: string;
  default_plan_id: string;
  created_at: string;
  provider_keys: Record<string, { last_four: string; set_at: string }>;
  /** The operator's passthrough operations for the tenant keys (absent: none). */
  passthrough?: string[];
};

/** Tenants and which provider keys each has stored (last four only). */
@Injectable()
export class TenantsProjection implements Projection {
  readonly name = 'tenants';
  readonly eventTypes = ['TenantCreated', 'TenantUpdated', 'ProviderKeySet', 'ProviderKeyRemoved', 'TenantPassthroughSet'];
  readonly collections = [TENANTS];
  /** Set by the tenant directory to follow changes made on other instances. */
  onChange: ((tenantIds: string[]) => void) | null = null;

  async handle(stored: StoredEvent, batch: ProjectionBatch): Promise<void> {
    const event = { type: stored.type, data: stored.data } as TenantEvent;
    const docs = batch.collection<TenantDoc>(TENANTS);
    switch (event.type) {
      case 'TenantCreated': {
        const d = event.data;
        await docs.put({ _id: d.tenant_id, tenant_id: d.tenant_id, name: d.name, default_plan_id: d.default_plan_id, created_at: d.created_at, provider_keys: {} });
        return;
      }
      case 'TenantUpdated':
        await docs.upsert(event.data.tenant_id, { set: { name: event.data.name, default_plan_id: event.data.default_plan_id } });
        return;
      case 'ProviderKeySet':
        await docs.upsert(event.data.tenant_id, { set: { [`provider_keys.${event.data.provider}`]: { last_four: event.data.last_four, set_at: event.data.set_at } } });
        return;
      case 'ProviderKeyRemoved':
        await docs.upsert(event.data.tenant_id, { unset: [`provider_keys.${event.data.provider}`] });
        return;
      case 'TenantPassthroughSet':
        await docs.upsert(event.data.tenant_id, { set: { passthrough: event.data.passthrough } });
        return;
      default: {
        const unexpected: never = event;
        return unexpected;
      }
    }
  }

  afterCommit(events: StoredEvent[]): void {
    this.onChange?.([...new Set(events.map((e) => (e.data as { tenant_id: string }).tenant_id))]);
  }
}
