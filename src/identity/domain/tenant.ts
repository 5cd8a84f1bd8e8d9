import { conflict, notFound } from '../../../libs/errors';

/** Stored tenant events (frozen shapes). Stream: `tenant-{tenant_id}`. */
export interface TenantCreatedData {
  tenant_id: string;
  name: string;
  default_plan_id: string;
  created_at: string;
}
export interface TenantUpdatedData {
  tenant_id: string;
  name: string;
  default_plan_id: string;
  updated_at: string;
}
/** A provider key was stored (its ciphertext lives outside the log; the event carries only the last four characters). */
export interface ProviderKeySetData {
  tenant_id: string;
  provider: string;
  last_four: string;
  set_at: string;
}
export interface ProviderKeyRemovedData {
  tenant_id: string;
  provider: string;
  removed_at: string;
}

/**
 * The operator allowed extra provider operations for the tenant's tenant keys (`openai:GET /v1/files`): forwarded as
 * they are, unmetered, each call audited (`PassthroughCallMade`). The whole list, replacing the one before.
 */
export interface TenantPassthroughSetData {
  tenant_id: string;
  passthrough: string[];
  set_at: string;
}

export type TenantEvent =
  | { type: 'TenantCreated'; data: TenantCreatedData }
  | { type: 'TenantUpdated'; data: TenantUpdatedData }
  | { type: 'ProviderKeySet'; data: ProviderKeySetData }
  | { type: 'ProviderKeyRemoved'; data: ProviderKeyRemovedData }
  | { type: 'TenantPassthroughSet'; data: TenantPassthroughSetData };

export const TENANT_EVENT_TYPES = ['TenantCreated', 'TenantUpdated', 'ProviderKeySet', 'ProviderKeyRemoved', 'TenantPassthroughSet'] as const;
export const tenantStreamId = (tenantId: string) => `tenant-${tenantId}`;

export type TenantCommand =
  | { type: 'CreateTenant'; data: { tenant_id: string; name: string; default_plan_id: string; at: Date } }
  | { type: 'UpdateTenant'; data: { name?: string; default_plan_id?: string; at: Date } }
  | { type: 'RecordProviderKeySet'; data: { provider: string; last_four: string; at: Date } }
  | { type: 'RecordProviderKeyRemoved'; data: { provider: string; at: Date } }
  | { type: 'SetPassthrough'; data: { passthrough: string[]; at: Date } };

export interface TenantState {
  exists: boolean;
  tenant_id: string;
  name: string;
  default_plan_id: string;
  created_at: string;
  provider_keys: Record<string, { last_four: string; set_at: string }>;
  passthrough: string[];
}

export const initialTenantState = (): TenantState => ({ exists: false, tenant_id: '', name: '', default_plan_id: '', created_at: '', provider_keys: {}, passthrough: [] });

export function decideTenant(command: TenantCommand, state: TenantState): TenantEvent[] {
  switch (command.type) {
    case 'CreateTenant': {
      const d = command.data;
      if (state.exists) throw conflict(`Tenant ${d.tenant_id} already exists.`, { tenant_id: d.tenant_id });
      return [{ type: 'TenantCreated', data: { tenant_id: d.tenant_id, name: d.name, default_plan_id: d.default_plan_id, created_at: d.at.toISOString() } }];
    }
    case 'UpdateTenant': {
      if (!state.exists) throw notFound('Tenant');
      const name = command.data.name ?? state.name;
      const plan = command.data.default_plan_id ?? state.default_plan_id;
      if (name === state.name && plan === state.default_plan_id) return [];
      return [{ type: 'TenantUpdated', data: { tenant_id: state.tenant_id, name, default_plan_id: plan, updated_at: command.data.at.toISOString() } }];
    }
    case 'RecordProviderKeySet':
      if (!state.exists) throw notFound('Tenant');
      return [{ type: 'ProviderKeySet', data: { tenant_id: state.tenant_id, provider: command.data.provider, last_four: command.data.last_four, set_at: command.data.at.toISOString() } }];
    case 'RecordProviderKeyRemoved':
      if (!state.exists) throw notFound('Tenant');
      if (!state.provider_keys[command.data.provider]) return [];
      return [{ type: 'ProviderKeyRemoved', data: { tenant_id: state.tenant_id, provider: command.data.provider, removed_at: command.data.at.toISOString() } }];
    case 'SetPassthrough': {
      if (!state.exists) throw notFound('Tenant');
      const list = [...new Set(command.data.passthrough)].sort();
      if (list.join('\n') === state.passthrough.join('\n')) return [];
      return [{ type: 'TenantPassthroughSet', data: { tenant_id: state.tenant_id, passthrough: list, set_at: command.data.at.toISOString() } }];
    }
    default: {
      const unexpected: never = command;
      throw new Error(`Unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

export function evolveTenant(state: TenantState, event: TenantEvent): TenantState {
  switch (event.type) {
    case 'TenantCreated':
      return { ...state, exists: true, tenant_id: event.data.tenant_id, name: event.data.name, default_plan_id: event.data.default_plan_id, created_at: event.data.created_at };
    case 'TenantUpdated':
      return { ...state, name: event.data.name, default_plan_id: event.data.default_plan_id };
    case 'ProviderKeySet':
      return { ...state, provider_keys: { ...state.provider_keys, [event.data.provider]: { last_four: event.data.last_four, set_at: event.data.set_at } } };
    case 'ProviderKeyRemoved': {
      const { [event.data.provider]: _gone, ...rest } = state.provider_keys;
      return { ...state, provider_keys: rest };
    }
    case 'TenantPassthroughSet':
      return { ...state, passthrough: event.data.passthrough };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

export const tenantDecider = { initialState: initialTenantState, decide: decideTenant, evolve: evolveTenant };
