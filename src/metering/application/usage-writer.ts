import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { AppendResult, EVENT_STORE, EventStore, NO_STREAM, WrongExpectedVersionError } from '../../../libs/event-store/port';
import { joinIdParts } from '../../../libs/ids/composite-id';
import { legacyUsageStreamId, UsageRecordedData, UsageRefusedData, usageStreamId } from '../contracts';
import { gatewayUsageEventId, refusalEventId, usageEventId } from '../domain/deterministic-id';
import { UsageLedger } from './usage-ledger';

/**
 * One stream per refusal, its parts length-prefixed. (Refusals stored before were `refusal-{tenant}-{usage_id}`; a
 * refusal's id is its own request's, never sent again, so nothing needs to find them by name.)
 */
export const refusalStreamId = (tenantId: string, usageId: string) => `refusal.request-${joinIdParts(tenantId, usageId)}`;

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

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
    const gateway = data.source === 'gateway';
    const eventId = gateway ? gatewayUsageEventId(data.tenant_id, data.usage_id) : usageEventId(data.tenant_id, data.usage_id);
    const streamId = usageStreamId(data.tenant_id, data.usage_id, data.source);
    // A record stored before under the legacy name whose event id differs from today's (a UUIDv7 report id stored
    // before its event id kept the v7 prefix; a gateway call's own usage id, such as a crawl's, before gateway calls
    // had event ids of their own) is found only by its name, so look first. Gateway request ids are new: no look.
    if (gateway ? !UUID_V7.test(data.usage_id) : UUID_V7.test(data.usage_id)) {
      const old = await this.legacyRecord(data);
      if (old) {
        onDurable?.();
        return { data: old, fresh: false };
      }
    }
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
    const stored = (await this.events.readStream(streamId, { maxCount: 1 }))[0];
    if (stored?.type === 'UsageRecorded') return { data: stored.data as UsageRecordedData, fresh: false };
    // The event id is stored, but not in this stream: a report accepted before the upgrade, under the legacy name.
    const old = await this.legacyRecord(data);
    if (old) return { data: old, fresh: false };
    throw new Error(`Stream ${streamId} holds no UsageRecorded`);
  }

  /**
   * The record of this tenant and usage id stored under the legacy name, if any. That name is shared by other tuples
   * (`acme` + `eu-1`, `acme-eu` + `1`), so only a record whose own tenant and id match counts; a gateway call counts
   * only a gateway record (a report never pre-empts it). A report finds either kind: it had the same event id.
   */
  private async legacyRecord(data: Pick<UsageRecordedData, 'tenant_id' | 'usage_id' | 'source'>): Promise<UsageRecordedData | null> {
    const first = (await this.events.readStream(legacyUsageStreamId(data.tenant_id, data.usage_id), { maxCount: 1 }))[0];
    if (first?.type !== 'UsageRecorded') return null;
    const old = first.data as UsageRecordedData;
    if (old.tenant_id !== data.tenant_id || old.usage_id !== data.usage_id) return null;
    if (data.source === 'gateway' && old.source !== 'gateway') return null;
    return old;
  }

  /**
   * The gateway's record of a usage id, or null: an async job's start, read when a poll settles it (under the legacy
   * name too, for a job started before the namespaces).
   */
  async readGatewayRecord(tenantId: string, usageId: string): Promise<UsageRecordedData | null> {
    const stored = await this.events.readStream(usageStreamId(tenantId, usageId, 'gateway'), { maxCount: 1 });
    if (stored[0]?.type === 'UsageRecorded') return stored[0].data as UsageRecordedData;
    return this.legacyRecord({ tenant_id: tenantId, usage_id: usageId, source: 'gateway' });
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
