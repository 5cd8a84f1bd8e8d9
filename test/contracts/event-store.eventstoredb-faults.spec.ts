import { EventStoreDBClient, jsonEvent, ANY as ESDB_ANY } from '@eventstore/db-client';
import { AppendTooLargeError, EventStoreDbEventStore } from '../../libs/event-store/eventstoredb/eventstoredb-event-store';
import { ANY, EventStoreUnavailableError, NO_STREAM, StoredEvent } from '../../libs/event-store/port';
import { FakeEventStoreDb } from '../fakes/eventstoredb/fake-eventstoredb';
import { event, streamOf } from './event-store.contract';

/**
 * The EventStoreDB adapter under the faults a server and a network cause, on the protocol fake (a test double of the
 * server's gRPC protocol, not a store): restarts, a connection lost after the write and before the answer, slow
 * answers, injected errors, the append size limit. The unchanged client sits between the two.
 */
describe('EventStoreDB adapter under faults (protocol fake)', () => {
  let fake: FakeEventStoreDb;
  let store: EventStoreDbEventStore;

  beforeEach(async () => {
    fake = await new FakeEventStoreDb().start();
    store = await EventStoreDbEventStore.connect(fake.url, { resubscribeBackoffMs: [10, 100], readDeadlineMs: 2_000, appendDeadlineMs: 2_000 });
  });
  afterEach(async () => {
    fake.delayMs = 0;
    await store.close();
    await fake.stop();
  });

  const waitFor = async (check: () => boolean) => {
    while (!check()) await new Promise((r) => setTimeout(r, 10));
  };

  it('a subscription survives server restarts, mid catch-up and live, and hands over every event once in $all order', async () => {
    const s = streamOf();
    for (let i = 0; i < 40; i++) await store.append(s, [event('Tick', { i })]);
    const seen: StoredEvent[] = [];
    const sub = store.subscribeToAll(
      async (es) => {
        await new Promise((r) => setImmediate(r));
        seen.push(...es);
      },
      { batchSize: 3, types: ['Tick'] },
    );
    try {
      await waitFor(() => seen.length >= 5);
      await fake.restart(50);
      for (let i = 40; i < 60; i++) await store.append(s, [event('Tick', { i })]);
      await sub.caughtUp();
      expect(store.subscriptionStates()[0].state).toBe('live');
      await fake.restart();
      for (let i = 60; i < 70; i++) await store.append(s, [event('Tick', { i })]);
      await sub.caughtUp();
      expect(seen.map((e) => (e.data as { i: number }).i)).toEqual(Array.from({ length: 70 }, (_, i) => i));
      const log = (await store.readAll({ maxCount: 10_000, types: ['Tick'] })).map((e) => e.position);
      expect(seen.map((e) => e.position)).toEqual(log);
    } finally {
      await sub.stop();
    }
  });

  it('while the server is down the subscription says so, and ping fails once it has been cut off long enough', async () => {
    const sub = store.subscribeToAll(() => undefined);
    try {
      await sub.caughtUp();
      await waitFor(() => store.subscriptionStates()[0].state === 'live');
      await fake.stop();
      await waitFor(() => store.subscriptionStates()[0].state === 'reconnecting');
      await expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await fake.start();
      await store.append(streamOf(), [event()]);
      await sub.caughtUp();
      // caughtUp() may be answered by a read before the subscription is back; it comes back on its own.
      await waitFor(() => store.subscriptionStates()[0].state === 'live');
      await store.ping();
    } finally {
      await sub.stop();
    }
  });

  it('an append whose answer is lost after the write is retried: acknowledged once as fresh, stored once; a later retry is a duplicate', async () => {
    const s = streamOf();
    const e = event('Paid', { amount: 3 });
    fake.dropConnectionAfterCommit(2); // the intent's answer and the data's answer are both lost
    const first = await store.append(s, [e], NO_STREAM);
    expect(first.duplicate).toBe(false);
    const again = await store.append(s, [e], NO_STREAM);
    expect(again).toEqual({ duplicate: true, position: first.position, nextExpectedRevision: 0n });
    expect((await store.readStream(s)).map((x) => x.id)).toEqual([e.id]);
  });

  it('an id is stored once after a restart emptied the server\'s idempotence cache and evictions, where the server alone stores it twice', async () => {
    await fake.stop();
    fake = await new FakeEventStoreDb({ idempotenceCacheSize: 1 }).start();
    await store.close();
    store = await EventStoreDbEventStore.connect(fake.url);
    // The server's own rule, through the raw client: `any` with an evicted id writes the event again.
    const raw = EventStoreDBClient.connectionString(fake.url);
    const rawStream = streamOf();
    const dup = jsonEvent({ type: 'Raw', data: {} });
    await raw.appendToStream(rawStream, [dup], { expectedRevision: ESDB_ANY });
    await raw.appendToStream(streamOf(), [jsonEvent({ type: 'Raw', data: {} })]);
    await raw.appendToStream(rawStream, [dup], { expectedRevision: ESDB_ANY });
    let rawCount = 0;
    for await (const _ of raw.readStream(rawStream)) rawCount++;
    expect(rawCount).toBe(2);
    await raw.dispose();
    // The adapter: the same sequence, and a restart, store it once.
    const s = streamOf();
    const e = event('Paid');
    const first = await store.append(s, [e], ANY);
    await store.append(streamOf(), [event()], ANY);
    await fake.restart();
    expect(await store.append(s, [e], ANY)).toEqual({ duplicate: true, position: first.position, nextExpectedRevision: 0n });
    expect(await store.readStream(s)).toHaveLength(1);
  });

  it('unavailable and not-leader answers are retried; access denied is the port\'s unavailable error, named', async () => {
    const s = streamOf();
    fake.injectError('append', 'unavailable');
    fake.injectError('append', 'not-leader');
    expect((await store.append(s, [event()], NO_STREAM)).duplicate).toBe(false);
    fake.injectError('read', 'unavailable');
    expect(await store.readStream(s)).toHaveLength(1);
    fake.injectError('read', 'access-denied');
    const err = await store.readStream(s).catch((x) => x);
    expect(err).toBeInstanceOf(EventStoreUnavailableError);
    expect(err.message).toMatch(/access denied/);
  });

  it('a slow server: reads and ping fail within their deadline; an append that timed out is stored at most once when retried', async () => {
    const s = streamOf();
    await store.append(s, [event()], NO_STREAM);
    await store.close();
    store = await EventStoreDbEventStore.connect(fake.url, { readDeadlineMs: 150, appendDeadlineMs: 150 });
    fake.delayMs = 400;
    await expect(store.readStream(s)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    await expect(store.ping()).rejects.toThrow(/did not answer the health read within 150 ms/);
    const e = event('Late');
    await expect(store.append(s, [e], 0n)).rejects.toBeInstanceOf(EventStoreUnavailableError);
    fake.delayMs = 0;
    // The slow server may have written it after the client gave up: the retry finds the claim either way.
    const retry = await store.append(s, [e], 0n);
    expect(retry.nextExpectedRevision).toBe(1n);
    expect((await store.readStream(s)).map((x) => x.id)).toEqual([expect.any(String), e.id]);
  });

  it('a read stopped early cancels its call; typed and untyped reads leave no call open', async () => {
    const s = streamOf();
    await store.append(s, Array.from({ length: 300 }, () => event('Many')));
    await store.readAll({ maxCount: 1 });
    await store.readAll({ maxCount: 5, types: ['Many'] });
    await store.headPosition();
    await store.readStream(s, { maxCount: 2 });
    await waitFor(() => fake.openReads === 0);
    expect(fake.openReads).toBe(0);
  });

  it('an append over the 1 MiB limit is refused before it is sent, and the server\'s own refusal maps to the same error', async () => {
    const s = streamOf();
    const big = event('Big', { blob: 'x'.repeat(1024 * 1024) });
    await expect(store.append(s, [big])).rejects.toBeInstanceOf(AppendTooLargeError);
    expect(fake.calls.append).toBe(0);
    await fake.stop();
    fake = await new FakeEventStoreDb({ maxAppendSize: 64 * 1024 }).start();
    await store.close();
    store = await EventStoreDbEventStore.connect(fake.url);
    await expect(store.append(s, [event('Big', { blob: 'x'.repeat(100 * 1024) })])).rejects.toBeInstanceOf(AppendTooLargeError);
    expect(await store.readStream(s)).toEqual([]);
  });
});
