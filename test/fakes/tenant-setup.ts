import type { TestApp } from '../support/test-app';
import { TEST_ADMIN_KEY } from '../support/test-app';

export interface GatewayTenant {
  tenantId: string;
  tenantKey: string;
  /** A user key per user asked for. */
  userKeys: Record<string, string>;
}

/**
 * Sets up a tenant through the public HTTP API (as an operator would): the tenant, its key, its stored provider keys,
 * optional user keys, and an optional plan (PUT /api/admin/plans) the users subscribe to.
 */
export async function setupTenant(
  t: TestApp,
  o: { tenantId: string; providers?: string[]; users?: string[]; plan?: { id: string; limits: Record<string, number> }; subscribe?: string[] },
): Promise<GatewayTenant> {
  const ok = (r: { status: number; text: string }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  ok(await t.request('POST', '/api/admin/tenants', { key: TEST_ADMIN_KEY, body: { tenant_id: o.tenantId, name: o.tenantId } }), 'create tenant');
  const tk = ok(await t.request('POST', `/api/admin/tenants/${o.tenantId}/keys`, { key: TEST_ADMIN_KEY, body: { role: 'tenant' } }), 'tenant key');
  const tenantKey: string = (tk as any).body.key;
  for (const p of o.providers ?? []) ok(await t.request('PUT', `/api/tenant/provider-keys/${p}`, { key: tenantKey, body: { api_key: `real-${p}-key` } }), `provider key ${p}`);
  const userKeys: Record<string, string> = {};
  for (const u of o.users ?? []) userKeys[u] = ((ok(await t.request('POST', '/api/tenant/keys', { key: tenantKey, body: { user_id: u } }), 'user key') as any).body.key) as string;
  if (o.plan) {
    ok(
      await t.request('PUT', `/api/admin/plans/${o.plan.id}`, { key: TEST_ADMIN_KEY, body: { name: o.plan.id, monthly_price: 10, yearly_price: 100, limits: o.plan.limits } }),
      'plan',
    );
    for (const u of o.subscribe ?? o.users ?? [])
      ok(await t.request('POST', '/api/subscription/subscribe', { key: tenantKey, body: { user_id: u, plan_id: o.plan.id, billing_cycle: 'monthly' } }), `subscribe ${u}`);
  }
  return { tenantId: o.tenantId, tenantKey, userKeys };
}
