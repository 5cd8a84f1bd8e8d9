import { EventStore } from '../port';

/** Placeholder until the EventStoreDB adapter lands (see issue 3). */
export class EventStoreDbEventStore {
  static async connect(_url: string): Promise<EventStore> {
    throw new Error('The EventStoreDB adapter is not available yet.');
  }
}
