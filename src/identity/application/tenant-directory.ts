import { Inject, Injectable } from '@nestjs/common';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { TENANTS, TenantDoc, TenantsProjection } from '../projections/tenants.projection';

export interface TenantView {
  tenant_id: string;
  name: string;
  default_plan_id: string;
  created_at: string;
  /** Extra provider operations the operator allowed for the tenant keys (`openai:GET /v1/files`). */
  passthrough?: string[];
}

const RECHECK_MS = 30_000;

/** Tenants by id, from memory: the read model is asked once per tenant and again every 30 s; local changes apply at once. */
@Injectable()
export class TenantDirectory {
  private readonly cache = new Map<string, { view: TenantView; checkedAt: number }>();

  constructor(@Inject(READ_STORE) private readonly reads: ReadStore, projection: TenantsProjection) {
    projection.onChange = (ids) => ids.forEach((id) => this.cache.delete(id));
  }

  async get(tenantId: string): Promise<TenantView | null> {
    const hit = this.cache.get(tenantId);
    if (hit && Date.now() - hit.checkedAt <= RECHECK_MS) return hit.view;
    const doc = await this.reads.collection<TenantDoc>(TENANTS).get(tenantId);
    if (!doc) return hit?.view ?? null;
    const view = { tenant_id: doc.tenant_id, name: doc.name, default_plan_id: doc.default_plan_id, created_at: doc.created_at, passthrough: doc.passthrough ?? [] };
    this.cache.set(tenantId, { view, checkedAt: Date.now() });
    return view;
  }

  remember(view: TenantView): void {
    this.cache.set(view.tenant_id, { view, checkedAt: Date.now() });
  }
}
