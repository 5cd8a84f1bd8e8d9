import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '../../../libs/clock';
import { handleCommand } from '../../../libs/event-store/command-handling';
import { EVENT_STORE, EventStore } from '../../../libs/event-store/port';
import { alertDecider } from '../domain/alert';

/** Marks an alert read: an `AlertRead` event on the alert's stream (none when it was already read). */
@Injectable()
export class MarkAlertReadHandler {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute(alert: { alert_id: string; tenant_id: string; user_id: string; stream_id: string }): Promise<{ read_at: string; changed: boolean }> {
    const now = this.clock.now();
    const r = await handleCommand(
      this.events,
      alert.stream_id,
      alertDecider,
      { type: 'MarkAlertRead', data: { alert_id: alert.alert_id, tenant_id: alert.tenant_id, user_id: alert.user_id, read_at: now.toISOString() } } as const,
      { now },
    );
    return { read_at: now.toISOString(), changed: r.newEvents.length > 0 };
  }
}
