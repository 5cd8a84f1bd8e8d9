import * as path from 'path';
import { EventStore } from './port';
import { SqliteEventStore } from './sqlite/sqlite-event-store';
import { armCrashPoints, crashPoint } from '../faults/crash-point';

export interface EventStoreSettings {
  eventStoreUrl: string | null;
  dataDir: string;
  sqliteSync: 'full' | 'normal';
  pollIntervalMs?: number;
  /** Where the SQLite store commits appends (default 'thread'; 'inline' for code already on a worker thread). */
  sqliteWriter?: 'thread' | 'inline';
  /** Test-only named crash points (AppConfig.faultPoints); empty in production. */
  faultPoints?: readonly string[];
}

/** EVENTSTORE_URL set: EventStoreDB; otherwise the embedded SQLite store in DATA_DIR/events.db. */
export async function createEventStore(s: EventStoreSettings): Promise<EventStore> {
  if (s.faultPoints?.length) armCrashPoints(s.faultPoints);
  if (s.eventStoreUrl) {
    // Loaded lazily so the embedded default never loads the gRPC client.
    const { EventStoreDbEventStore } = await import('./eventstoredb/eventstoredb-event-store');
    return EventStoreDbEventStore.connect(s.eventStoreUrl);
  }
  const store = new SqliteEventStore({ file: path.join(s.dataDir, 'events.db'), sync: s.sqliteSync, pollIntervalMs: s.pollIntervalMs, faultHook: s.faultPoints?.length ? crashPoint : undefined, writer: s.sqliteWriter });
  try {
    // The writer thread opens its own connection: a failure there surfaces at start too.
    await store.ready();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
