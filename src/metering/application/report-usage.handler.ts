import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { costToJson } from '../../../libs/money';
import { AppError } from '../../../libs/errors';
import { PROVIDER_IDS } from '../../shell';
import { IdentityFacade } from '../../identity';
import type { Principal } from '../../identity';
import { SubscriptionsFacade } from '../../subscriptions';
import { parseReportedUsage, payloadHash } from '../domain/reported-usage';
import { MeteringFacade } from './metering.facade';
import { UsageWriter } from './usage-writer';

export const MAX_REPORT_BATCH = 1000;

export type ReportStatus = 'accepted' | 'duplicate' | 'conflict' | 'rejected';

export interface ReportResult {
  id: string | null;
  status: ReportStatus;
  reason?: string;
  cost?: number;
  cost_exact?: string;
}

/**
 * Records usage the application reports for calls it made itself. Each event stands alone: validated, scoped to the
 * key's tenant (a user key: its own user only), priced at the price in effect at occurred_at, appended idempotently.
 * Reported calls already happened, so limits do not refuse them; they count like any other call.
 */
@Injectable()
export class ReportUsageHandler {
  constructor(
    private readonly writer: UsageWriter,
    private readonly metering: MeteringFacade,
    private readonly identity: IdentityFacade,
    private readonly subscriptions: SubscriptionsFacade,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Results in the order of the events; every result is durable when this resolves. */
  report(principal: Principal, events: unknown[], tenantHint?: string): Promise<ReportResult[]> {
    const now = this.clock.now();
    return Promise.all(events.map((raw) => this.reportOne(principal, raw, now, tenantHint)));
  }

  private async reportOne(principal: Principal, raw: unknown, now: Date, tenantHint?: string): Promise<ReportResult> {
    const parsed = parseReportedUsage(raw, PROVIDER_IDS, now);
    if (!parsed.ok) return { id: parsed.id, status: 'rejected', reason: parsed.reason };
    const u = parsed.usage;
    let scope: { tenantId: string; userId: string };
    try {
      scope = this.identity.scopeUser(principal, u.user_id, tenantHint);
    } catch {
      return { id: u.id, status: 'rejected', reason: `this key may not report usage for user ${u.user_id}` };
    }
    try {
      const at = new Date(u.occurred_at);
      const sub = this.subscriptions.peekEffective(scope.tenantId, scope.userId, at) ?? (await this.subscriptions.getEffective(scope.tenantId, scope.userId, at));
      const data = this.metering.recordedData(scope.tenantId, scope.userId, sub, { ...u, usage_id: u.id }, 'report');
      data.payload_hash = payloadHash(u);
      const out = await this.writer.recordUsage(data);
      if (out.fresh) return { id: u.id, status: 'accepted', cost: costToJson(data.cost), cost_exact: data.cost };
      if (out.data.payload_hash === data.payload_hash) return { id: u.id, status: 'duplicate', cost: costToJson(out.data.cost), cost_exact: out.data.cost };
      return { id: u.id, status: 'conflict', reason: `id ${u.id} was reported before with a different payload` };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { id: u.id, status: 'rejected', reason: err.message };
      throw err;
    }
  }
}
