import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppendResult, EVENT_STORE, EventStore, NO_STREAM, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { UsageRecordedData, UsageRefusedData, usageStreamId } from '../contracts';
import { refusalEventId, usageEventId } from '../domain/deterministic-id';
import { UsageLedger } from './usage-ledger';

/** One stream per refusal: `refusal-{tenant}-{usage_id}`. */
export const refusalStreamId = (tenantId: string, usageId: string) => `refusal-${tenantId}-${usageId}`;

export interface WriteOutcome {
  /** What the log holds for this usage id: the data just appended, or what an earlier append stored. */
  data: UsageRecordedData;
  /** False when the usage id was recorded before (an idempotent retry or a repeated report). */
  fresh: boolean;
}

/**
 * Appends metering's events: one stream per usage id, expected revision no_stream and a deterministic event id, so a
 * retry stores nothing twice. Resolves only once the event is durable (the SQLite adapter group-commits the appends
 * of one tick). A fresh record counts in the ledger at once, in the same turn as the caller's reservation release.
 */
@Injectable()
export class UsageWriter {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly ledger: UsageLedger,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async recordUsage(data: UsageRecordedData, onDurable?: () => void): Promise<WriteOutcome> {
    const eventId = usageEventId(data.tenant_id, data.usage_id);
    const streamId = usageStreamId(data.tenant_id, data.usage_id);
    let result: AppendResult | null = null;
    try {
      result = await this.events.append(
        streamId,
        [{ id: eventId, type: 'UsageRecorded', data, metadata: { occurredAt: this.clock.now().toISOString(), correlationId: data.usage_id } }],
        NO_STREAM,
      );
    } catch (err) {
      if (!(err instanceof WrongExpectedVersionError)) throw err;
    }
    if (result && !result.duplicate) {
      this.ledger.countLocal(eventId, result.position, data);
      onDurable?.();
      return { data, fresh: true };
    }
    onDurable?.();
    const stored = await this.events.readStream(streamId, { maxCount: 1 });
    const first = stored[0];
    if (!first || first.type !== 'UsageRecorded') throw new Error(`Stream ${streamId} holds no UsageRecorded`);
    return { data: first.data as UsageRecordedData, fresh: false };
  }

  /** The UsageRecorded stored for a usage id, or null (an async job's start, read when a poll settles it). */
  async readRecorded(tenantId: string, usageId: string): Promise<UsageRecordedData | null> {
    const stored = await this.events.readStream(usageStreamId(tenantId, usageId), { maxCount: 1 });
    return stored[0]?.type === 'UsageRecorded' ? (stored[0].data as UsageRecordedData) : null;
  }

  /** Appends a refusal (idempotent per usage id); resolves once durable. */
  async recordRefusal(data: UsageRefusedData): Promise<void> {
    try {
      await this.events.append(
        refusalStreamId(data.tenant_id, data.usage_id),
        [{ id: refusalEventId(data.tenant_id, data.usage_id), type: 'UsageRefused', data, metadata: { occurredAt: this.clock.now().toISOString(), correlationId: data.usage_id } }],
        NO_STREAM,
      );
    } catch (err) {
      if (!(err instanceof WrongExpectedVersionError)) throw err;
    }
  }
}
