import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CLOCK, Clock } from '../../../libs/clock';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { handleCommand, loadState } from '../../../libs/event-store/command-handling';
import { READ_STORE, ReadStore } from '../../../libs/read-store/port';
import { AppError, notFound } from '../../../libs/errors';
import type { PlansFacade } from '../../plans';
import { Principal } from '../access';
import { apiKeyDecider, apiKeyStreamId } from '../domain/api-key';
import { tenantDecider, tenantStreamId } from '../domain/tenant';
import { hashKey, keyPrefix, lastFour, newApiKey, newKeyId } from '../infrastructure/key-material';
import { API_KEYS, ApiKeyDoc } from '../projections/api-keys.projection';
import { TENANTS, TenantDoc } from '../projections/tenants.projection';
import { API_KEY_ACTIVITY, KeyRegistry } from './key-registry';
import { TenantDirectory, TenantView } from './tenant-directory';

export interface IssuedKey {
  key_id: string;
  key: string;
  role: 'tenant' | 'user';
  prefix: string;
  last_four: string;
  tenant_id: string;
  user_id?: string;
  created_at: string;
}

export interface KeyListing {
  key_id: string;
  role: 'tenant' | 'user';
  tenant_id: string;
  user_id: string | null;
  prefix: string;
  last_four: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

/** Tenants and API keys: create, issue, list, revoke (load, decide, append). */
@Injectable()
export class IdentityCommands {
  /** Users given a key on this instance (known before the read model has the key). */
  private readonly usersWithKeys = new Set<string>();

  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly reads: ReadStore,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly registry: KeyRegistry,
    private readonly tenants: TenantDirectory,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * The plans facade, resolved when first needed: plans' controller imports identity's decorators, so identity must not
   * load plans while its own files load (a require cycle).
   */
  private get plans(): PlansFacade {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PlansFacade: token } = require('../../plans') as typeof import('../../plans');
    return this.moduleRef.get(token, { strict: false });
  }

  async createTenant(input: { tenant_id: string; name: string; default_plan_id?: string }): Promise<TenantView> {
    const plan = input.default_plan_id ?? 'free';
    this.requirePlan(plan);
    const r = await handleCommand(this.events, tenantStreamId(input.tenant_id), tenantDecider, { type: 'CreateTenant', data: { tenant_id: input.tenant_id, name: input.name, default_plan_id: plan, at: this.clock.now() } }, { now: this.clock.now() });
    const view = { tenant_id: r.state.tenant_id, name: r.state.name, default_plan_id: r.state.default_plan_id, created_at: r.state.created_at, passthrough: [] };
    this.tenants.remember(view);
    return view;
  }

  async updateTenant(tenantId: string, input: { name?: string; default_plan_id?: string; passthrough?: string[] }): Promise<TenantView> {
    if (input.default_plan_id) this.requirePlan(input.default_plan_id);
    await this.requireTenant(tenantId);
    const { passthrough, ...rest } = input;
    let r = await handleCommand(this.events, tenantStreamId(tenantId), tenantDecider, { type: 'UpdateTenant', data: { ...rest, at: this.clock.now() } }, { now: this.clock.now() });
    if (passthrough) r = await handleCommand(this.events, tenantStreamId(tenantId), tenantDecider, { type: 'SetPassthrough', data: { passthrough, at: this.clock.now() } }, { now: this.clock.now() });
    const view = { tenant_id: r.state.tenant_id, name: r.state.name, default_plan_id: r.state.default_plan_id, created_at: r.state.created_at, passthrough: r.state.passthrough };
    this.tenants.remember(view);
    return view;
  }

  async listTenants(): Promise<TenantView[]> {
    const page = await this.reads.collection<TenantDoc>(TENANTS).find({}, { limit: 10_000, sort: { field: 'tenant_id', direction: 'asc' } });
    return page.items.map((d) => ({ tenant_id: d.tenant_id, name: d.name, default_plan_id: d.default_plan_id, created_at: d.created_at, passthrough: d.passthrough ?? [] }));
  }

  async requireTenant(tenantId: string): Promise<TenantView> {
    const t = (await this.tenants.get(tenantId)) ?? (await this.fromStream(tenantId));
    if (!t) throw notFound('Tenant', { tenant_id: tenantId });
    return t;
  }

  private async fromStream(tenantId: string): Promise<TenantView | null> {
    const { state } = await loadState(this.events, tenantStreamId(tenantId), tenantDecider);
    if (!state.exists) return null;
    const view = { tenant_id: state.tenant_id, name: state.name, default_plan_id: state.default_plan_id, created_at: state.created_at, passthrough: state.passthrough };
    this.tenants.remember(view);
    return view;
  }

  private requirePlan(planId: string): void {
    const plan = this.plans.getPlan(planId);
    if (!plan || !plan.active) throw new AppError(422, 'validation_failed', `Unknown plan ${planId}.`, { default_plan_id: planId, plans: this.plans.listPlans().map((p) => p.plan_id) });
  }

  async issueKey(by: Principal, tenantId: string, role: 'tenant' | 'user', userId: string | null): Promise<IssuedKey> {
    await this.requireTenant(tenantId);
    const key = newApiKey();
    const keyId = newKeyId();
    const now = this.clock.now();
    const data = { key_id: keyId, role, tenant_id: tenantId, user_id: role === 'user' ? userId : null, key_hash: hashKey(key), prefix: keyPrefix(key), last_four: lastFour(key), issued_by: by.keyId };
    await handleCommand(this.events, apiKeyStreamId(keyId), apiKeyDecider, { type: 'IssueKey', data: { ...data, at: now } }, { now });
    this.registry.remember(data);
    if (data.user_id) this.usersWithKeys.add(`${tenantId}/${data.user_id}`);
    return { key_id: keyId, key, role, prefix: data.prefix, last_four: data.last_four, tenant_id: tenantId, ...(role === 'user' ? { user_id: userId! } : {}), created_at: now.toISOString() };
  }

  /** Revokes a key; `tenantId` limits it to one tenant's keys (404 for another's, as if absent). */
  async revokeKey(by: Principal, keyId: string, tenantId: string | null): Promise<{ key_id: string; revoked_at: string }> {
    const { state } = await loadState(this.events, apiKeyStreamId(keyId), apiKeyDecider);
    if (!state.issued || (tenantId !== null && state.issued.tenant_id !== tenantId)) throw notFound('Key', { key_id: keyId });
    const now = this.clock.now();
    const r = await handleCommand(this.events, apiKeyStreamId(keyId), apiKeyDecider, { type: 'RevokeKey', data: { at: now, revoked_by: by.keyId } }, { now });
    this.registry.forget(state.issued.key_hash);
    return { key_id: keyId, revoked_at: r.state.revoked_at! };
  }

  async listKeys(tenantId: string, includeRevoked = false): Promise<KeyListing[]> {
    const page = await this.reads.collection<ApiKeyDoc>(API_KEYS).find({ tenant_id: tenantId }, { limit: 10_000, sort: { field: 'issued_at', direction: 'asc' } });
    const activity = this.reads.collection<{ _id: string; last_used_at?: string }>(API_KEY_ACTIVITY);
    const out: KeyListing[] = [];
    for (const d of page.items) {
      if (d.revoked_at && !includeRevoked) continue;
      const a = await activity.get(d.key_id);
      out.push({ key_id: d.key_id, role: d.role, tenant_id: d.tenant_id, user_id: d.user_id, prefix: d.prefix, last_four: d.last_four, created_at: d.issued_at, last_used_at: a?.last_used_at ?? null, revoked_at: d.revoked_at });
    }
    return out;
  }

  /** Whether a key was ever issued for this user of this tenant. */
  async userHasKey(tenantId: string, userId: string): Promise<boolean> {
    if (this.usersWithKeys.has(`${tenantId}/${userId}`)) return true;
    return (await this.reads.collection(API_KEYS).count({ tenant_id: tenantId, user_id: userId })) > 0;
  }
}
