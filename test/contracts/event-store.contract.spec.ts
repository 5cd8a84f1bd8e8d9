import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { EventStoreDbEventStore } from '../../libs/event-store/eventstoredb/eventstoredb-event-store';
import { eventStoreContract } from './event-store.contract';
import { FakeEventStoreDb } from '../fakes/eventstoredb/fake-eventstoredb';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-es-contract-'));
let n = 0;
const files = new WeakMap<object, string>();

for (const writer of ['thread', 'inline'] as const) {
  eventStoreContract(`SQLite (embedded, writer ${writer})`, {
    async open() {
      const file = path.join(dir, `events-${++n}.db`);
      const store = new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 20, writer });
      files.set(store, file);
      return store;
    },
    async reopen(store) {
      const file = files.get(store)!;
      await store.close();
      const again = new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 20, writer });
      files.set(again, file);
      return again;
    },
    async openFresh() {
      return new SqliteEventStore({ file: path.join(dir, `events-${++n}.db`), sync: 'normal', pollIntervalMs: 20, writer });
    },
    async openSecond(store) {
      const file = files.get(store)!;
      return new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 20, writer });
    },
  });
}
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// The EventStoreDB adapter through the unchanged client, against the protocol fake (a test double, not a store):
// reopen() disconnects and connects again; the server-restart variant restarts the fake in between too.
for (const restartServer of [false, true]) {
  let fake: FakeEventStoreDb | null = null;
  const connect = async () => {
    fake ??= await new FakeEventStoreDb().start();
    return EventStoreDbEventStore.connect(fake.url, { resubscribeBackoffMs: [10, 200] });
  };
  eventStoreContract(`EventStoreDB adapter on the protocol fake${restartServer ? ', reopened across a server restart' : ''}`, {
    open: connect,
    async reopen(store) {
      await store.close();
      if (restartServer) await fake!.restart();
      return connect();
    },
    async openFresh() {
      const empty = await new FakeEventStoreDb().start();
      const store = await EventStoreDbEventStore.connect(empty.url);
      const close = store.close.bind(store);
      store.close = async () => {
        await close();
        await empty.stop();
      };
      return store;
    },
    openSecond: () => connect(),
    async cleanup() {
      await fake?.stop();
      fake = null;
    },
  });
}

const url = process.env.EVENTSTORE_URL;
if (url) {
  eventStoreContract('EventStoreDB', {
    open: () => EventStoreDbEventStore.connect(url),
    async reopen(store) {
      await store.close();
      return EventStoreDbEventStore.connect(url);
    },
    // A real server is shared: "fresh" is only as fresh as the server (run the suite against an empty one).
    openFresh: () => EventStoreDbEventStore.connect(url),
    openSecond: () => EventStoreDbEventStore.connect(url),
  });
} else {
  console.log('EventStore contract: EventStoreDB skipped (set EVENTSTORE_URL=esdb://localhost:2113?tls=false to run it)');
  describe.skip('EventStore contract: EventStoreDB (EVENTSTORE_URL not set)', () => {
    it('runs against EventStoreDB', () => undefined);
  });
}
