import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { handleCommand } from '../../../libs/event-store/command-handling';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import {
  alertDecider,
  AlertEvent,
  isSameAlert,
  legacyRenewalNoticeStreamId,
  legacyUsageAlertStreamId,
  RenewalNoticeRaisedData,
  renewalNoticeStreamId,
  UsageAlertRaisedData,
  usageAlertStreamId,
} from '../domain/alert';
import { deterministicUuid } from './deterministic-id';

/**
 * Raises alerts. Each alert has its own stream named by (tenant, user, period, limit, threshold) and a deterministic
 * event id: the decider refuses a second raise, and the append expects the revision it read (`no_stream`), so
 * concurrent crossings, a replay and a second instance all end with one `UsageAlertRaised`.
 */
@Injectable()
export class RaiseAlertHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  static usageAlertId(tenantId: string, userId: string, periodStart: string, limit: string, threshold: number): string {
    return deterministicUuid(usageAlertStreamId(tenantId, userId, periodStart, limit, threshold));
  }

  static renewalNoticeId(tenantId: string, userId: string, periodStart: string): string {
    return deterministicUuid(renewalNoticeStreamId(tenantId, userId, periodStart));
  }

  /** True when this call raised it, false when it was raised before. */
  async raiseUsageAlert(data: UsageAlertRaisedData, causationId?: string): Promise<boolean> {
    if (await this.raisedUnderLegacyName(legacyUsageAlertStreamId(data.tenant_id, data.user_id, data.period_start, data.limit, data.threshold), data)) return false;
    const streamId = usageAlertStreamId(data.tenant_id, data.user_id, data.period_start, data.limit, data.threshold);
    const r = await handleCommand<ReturnType<typeof alertDecider.initialState>, Parameters<typeof alertDecider.decide>[0], AlertEvent>(
      this.events,
      streamId,
      alertDecider,
      { type: 'RaiseUsageAlert', data },
      { now: this.clock.now(), eventIds: () => deterministicUuid(`${streamId}#raised`), causationId, retries: 5 },
    );
    return r.newEvents.length > 0;
  }

  async raiseRenewalNotice(data: RenewalNoticeRaisedData): Promise<boolean> {
    if (await this.raisedUnderLegacyName(legacyRenewalNoticeStreamId(data.tenant_id, data.user_id, data.period_start), data)) return false;
    const streamId = renewalNoticeStreamId(data.tenant_id, data.user_id, data.period_start);
    const r = await handleCommand(this.events, streamId, alertDecider, { type: 'RaiseRenewalNotice', data } as const, {
      now: this.clock.now(),
      eventIds: () => deterministicUuid(`${streamId}#raised`),
      retries: 5,
    });
    return r.newEvents.length > 0;
  }

  /** An alert raised before stream names were length-prefixed is found under its old name, and not raised twice. */
  private async raisedUnderLegacyName(streamId: string, data: UsageAlertRaisedData | RenewalNoticeRaisedData): Promise<boolean> {
    const first = (await this.events.readStream(streamId, { maxCount: 1 }))[0];
    if (first?.type !== 'UsageAlertRaised' && first?.type !== 'RenewalNoticeRaised') return false;
    return isSameAlert(first.data as UsageAlertRaisedData | RenewalNoticeRaisedData, data);
  }
}
