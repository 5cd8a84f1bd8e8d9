import { conflict } from '../../../libs/errors';

export type KeyRole = 'admin' | 'tenant' | 'user';

/**
 * Stored API key events (frozen shapes). Stream: `apikey-{key_id}`. The key itself is never stored: only its SHA-256
 * hash, its prefix and its last four characters.
 */
export interface ApiKeyIssuedData {
  key_id: string;
  role: 'tenant' | 'user';
  tenant_id: string;
  user_id: string | null;
  key_hash: string;
  prefix: string;
  last_four: string;
  issued_at: string;
  /** The key id of the issuer ("admin" for the operator's key). */
  issued_by: string;
}
export interface ApiKeyRevokedData {
  key_id: string;
  tenant_id: string;
  user_id: string | null;
  key_hash: string;
  revoked_at: string;
  revoked_by: string;
}

export type ApiKeyEvent = { type: 'ApiKeyIssued'; data: ApiKeyIssuedData } | { type: 'ApiKeyRevoked'; data: ApiKeyRevokedData };
export const API_KEY_EVENT_TYPES = ['ApiKeyIssued', 'ApiKeyRevoked'] as const;
export const apiKeyStreamId = (keyId: string) => `apikey-${keyId}`;

export type ApiKeyCommand =
  | { type: 'IssueKey'; data: Omit<ApiKeyIssuedData, 'issued_at'> & { at: Date } }
  | { type: 'RevokeKey'; data: { at: Date; revoked_by: string } };

export interface ApiKeyState {
  issued: ApiKeyIssuedData | null;
  revoked_at: string | null;
}

export const initialApiKeyState = (): ApiKeyState => ({ issued: null, revoked_at: null });

export function decideApiKey(command: ApiKeyCommand, state: ApiKeyState): ApiKeyEvent[] {
  switch (command.type) {
    case 'IssueKey': {
      if (state.issued) throw conflict('Key id already used.');
      const { at, ...rest } = command.data;
      return [{ type: 'ApiKeyIssued', data: { ...rest, issued_at: at.toISOString() } }];
    }
    case 'RevokeKey': {
      const k = state.issued;
      if (!k || state.revoked_at) return [];
      return [{ type: 'ApiKeyRevoked', data: { key_id: k.key_id, tenant_id: k.tenant_id, user_id: k.user_id, key_hash: k.key_hash, revoked_at: command.data.at.toISOString(), revoked_by: command.data.revoked_by } }];
    }
    default: {
      const unexpected: never = command;
      throw new Error(`Unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

export function evolveApiKey(state: ApiKeyState, event: ApiKeyEvent): ApiKeyState {
  switch (event.type) {
    case 'ApiKeyIssued':
      return { ...state, issued: event.data };
    case 'ApiKeyRevoked':
      return { ...state, revoked_at: event.data.revoked_at };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

export const apiKeyDecider = { initialState: initialApiKeyState, decide: decideApiKey, evolve: evolveApiKey };
