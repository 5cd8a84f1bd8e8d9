import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, EventStore, NO_STREAM } from '../../libs/event-store/port';
import { joinIdParts } from '../../libs/ids/composite-id';
import { sha256Uuid } from '../../libs/ids/name-based-uuid';
import { IdentityFacade } from '../identity';
import { OperationSpec, OperationTable, parsePassthrough } from './operations';

/** Stored audit event (frozen shape). Stream: `passthrough-{parts}` (tenant id, request id), appended with no_stream. */
export interface PassthroughCallMadeData {
  tenant_id: string;
  user_id: string;
  provider: string;
  /** The operator's entry it matched (`GET /v1/files/{id}`). */
  operation: string;
  method: string;
  /** The normalised path forwarded (no query: it may carry what the log must not). */
  path: string;
  request_id: string;
  occurred_at: string;
}

/** Its parts length-prefixed, as every composite id (libs/ids/composite-id.ts). */
export const passthroughStreamId = (tenantId: string, requestId: string) => `passthrough-${joinIdParts(tenantId, requestId)}`;

/**
 * The operator's passthrough operations (`PUT /api/admin/tenants/{id}` with `"passthrough": ["openai:GET /v1/files"]`):
 * for a tenant key only, a call that matches none of the adapter's metered operations but one of these is forwarded
 * as it is, not metered, and audited first: `PassthroughCallMade` is durable before the call leaves.
 */
@Injectable()
export class PassthroughService {
  /** Compiled tables by tenant and provider, rebuilt when the tenant's list changes. */
  private readonly tables = new Map<string, { list: string; byProvider: Map<string, OperationTable> }>();

  constructor(
    private readonly identity: IdentityFacade,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  async match(tenantId: string, provider: string, method: string, path: string): Promise<{ spec: OperationSpec; params: Record<string, string> } | null> {
    const list = await this.identity.passthroughOf(tenantId);
    if (!list.length) return null;
    const joined = list.join('\n');
    let t = this.tables.get(tenantId);
    if (!t || t.list !== joined) {
      const byProvider = new Map<string, OperationSpec[]>();
      for (const entry of list) {
        const p = parsePassthrough(entry);
        if (p) byProvider.set(p.provider, [...(byProvider.get(p.provider) ?? []), p.spec]);
      }
      t = { list: joined, byProvider: new Map([...byProvider].map(([k, specs]) => [k, new OperationTable(specs)])) };
      this.tables.set(tenantId, t);
    }
    return t.byProvider.get(provider)?.match(method, path) ?? null;
  }

  async audit(c: { tenantId: string; userId: string; provider: string; operation: string; method: string; path: string; requestId: string; at: Date }): Promise<void> {
    const data: PassthroughCallMadeData = { tenant_id: c.tenantId, user_id: c.userId, provider: c.provider, operation: c.operation, method: c.method, path: c.path, request_id: c.requestId, occurred_at: c.at.toISOString() };
    const streamId = passthroughStreamId(c.tenantId, c.requestId);
    await this.events.append(streamId, [{ id: sha256Uuid(streamId), type: 'PassthroughCallMade', data, metadata: { occurredAt: data.occurred_at, correlationId: c.requestId } }], NO_STREAM);
  }
}
