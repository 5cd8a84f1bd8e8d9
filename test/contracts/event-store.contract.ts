import { randomUUID } from 'crypto';
import { ANY, EventStore, NewEvent, NO_STREAM, STREAM_EXISTS, StoredEvent, WrongExpectedVersionError } from '../../libs/event-store/port';

/** How a contract run gets its adapter: a fresh store, and the same store opened again (a restart). */
export interface EventStoreHarness {
  open(): Promise<EventStore>;
  /** Closes `store` and opens the same data again. */
  reopen(store: EventStore): Promise<EventStore>;
  /** A store on a log that holds no event of Tollgate's (on a server: only the server's own). */
  openFresh(): Promise<EventStore>;
  /** A second client of the same log as `store`, both open (another instance or process). */
  openSecond(store: EventStore): Promise<EventStore>;
  cleanup?(): Promise<void>;
}

export function event(type = 'ThingHappened', data: Record<string, unknown> = {}, id: string = randomUUID()): NewEvent {
  return { id, type, data, metadata: { occurredAt: '2025-03-10T12:00:00.000Z', correlationId: 'corr-1', causationId: 'cause-1' } };
}

/** A stream id no other test (or earlier run against a shared server) uses. */
export function streamOf(category = 'contract'): string {
  return `${category}-${randomUUID().replace(/-/g, '')}`;
}

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The EventStore port's contract. Every adapter must pass it unchanged. */
export function eventStoreContract(adapter: string, harness: EventStoreHarness): void {
  describe(`EventStore contract: ${adapter}`, () => {
    let store: EventStore;

    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
    });
    afterAll(async () => {
      await harness.cleanup?.();
    });

    describe('append with an expected revision', () => {
      it('no_stream creates a stream, and fails once the stream exists', async () => {
        const s = streamOf();
        const first = await store.append(s, [event(), event()], NO_STREAM);
        expect(first.nextExpectedRevision).toBe(1n);
        expect(first.duplicate).toBe(false);
        await expect(store.append(s, [event()], NO_STREAM)).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: s, actual: 1n });
      });

      it('stream_exists fails on a missing stream and succeeds on an existing one', async () => {
        const s = streamOf();
        const err = await store.append(s, [event()], STREAM_EXISTS).catch((e) => e);
        expect(err).toBeInstanceOf(WrongExpectedVersionError);
        expect(err.actual).toBe('no_stream');
        await store.append(s, [event()], NO_STREAM);
        expect((await store.append(s, [event()], STREAM_EXISTS)).nextExpectedRevision).toBe(1n);
      });

      it('an exact revision succeeds when it is the last revision and fails when stale', async () => {
        const s = streamOf();
        await store.append(s, [event(), event(), event()], NO_STREAM);
        const ok = await store.append(s, [event()], 2n);
        expect(ok.nextExpectedRevision).toBe(3n);
        const err = await store.append(s, [event()], 2n).catch((e) => e);
        expect(err).toBeInstanceOf(WrongExpectedVersionError);
        expect(err).toMatchObject({ streamId: s, expected: 2n, actual: 3n });
        await expect(store.append(streamOf(), [event()], 0n)).rejects.toBeInstanceOf(WrongExpectedVersionError);
      });

      it('any appends whatever the stream holds', async () => {
        const s = streamOf();
        expect((await store.append(s, [event()], ANY)).nextExpectedRevision).toBe(0n);
        expect((await store.append(s, [event()], ANY)).nextExpectedRevision).toBe(1n);
        expect((await store.append(s, [event()])).nextExpectedRevision).toBe(2n);
      });

      it('of two concurrent appends with the same expected revision exactly one wins', async () => {
        const s = streamOf();
        await store.append(s, [event()], NO_STREAM);
        const a = event('Chose', { by: 'a' });
        const b = event('Chose', { by: 'b' });
        const outcomes = await Promise.allSettled([store.append(s, [a], 0n), store.append(s, [b], 0n)]);
        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0].reason).toBeInstanceOf(WrongExpectedVersionError);
        const stored = await store.readStream(s);
        expect(stored.map((e) => e.revision)).toEqual([0n, 1n]);
        expect([a.id, b.id]).toContain(stored[1].id);
      });

      it('of ten concurrent writers on one revision exactly one wins, and each stream keeps its own outcome', async () => {
        const s = streamOf();
        const others = [streamOf(), streamOf()];
        await store.append(s, [event()], NO_STREAM);
        const results = await Promise.allSettled([
          ...Array.from({ length: 10 }, (_, i) => store.append(s, [event('Chose', { i })], 0n)),
          ...others.map((o) => store.append(o, [event()], NO_STREAM)),
        ]);
        expect(results.slice(0, 10).filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.slice(10).every((r) => r.status === 'fulfilled')).toBe(true);
        expect(await store.readStream(s)).toHaveLength(2);
      });

      it('an event id already stored is acknowledged and stored once', async () => {
        const s = streamOf();
        const e = event('Paid', { amount: 5 });
        const first = await store.append(s, [e], NO_STREAM);
        const retry = await store.append(s, [e], NO_STREAM);
        expect(retry.duplicate).toBe(true);
        expect(retry.position).toBe(first.position);
        expect(retry.nextExpectedRevision).toBe(0n);
        const again = await store.append(s, [e], ANY);
        expect(again.duplicate).toBe(true);
        const stored = await store.readStream(s);
        expect(stored.map((x) => x.id)).toEqual([e.id]);
        const all = await store.readAll({ after: first.position - 1n, maxCount: 10 });
        expect(all.filter((x) => x.id === e.id)).toHaveLength(1);
      });

      it('keeps type, JSON data and metadata (correlation, causation, time) as given', async () => {
        const s = streamOf();
        const e = event('UsageRecorded', { user_id: 'u1', tokens: 12, nested: { ok: true, list: [1, 'two'] } });
        const r = await store.append(s, [e], NO_STREAM);
        const [stored] = await store.readStream(s);
        expect(stored).toEqual<StoredEvent>({
          id: e.id,
          streamId: s,
          revision: 0n,
          position: r.position,
          type: 'UsageRecorded',
          data: { user_id: 'u1', tokens: 12, nested: { ok: true, list: [1, 'two'] } },
          metadata: { occurredAt: '2025-03-10T12:00:00.000Z', correlationId: 'corr-1', causationId: 'cause-1' },
        });
      });
    });

    describe('append: ids across streams, revisions and clients', () => {
      it('an id already stored in another stream is a duplicate, stored once, and the target stream is untouched', async () => {
        const s1 = streamOf();
        const s2 = streamOf();
        const e = event('Paid', { amount: 5 });
        const first = await store.append(s1, [e], NO_STREAM);
        const again = await store.append(s2, [e], NO_STREAM);
        expect(again).toEqual({ duplicate: true, position: first.position, nextExpectedRevision: -1n });
        expect(await store.append(s2, [e], STREAM_EXISTS)).toEqual({ duplicate: true, position: first.position, nextExpectedRevision: -1n });
        expect(await store.readStream(s2)).toEqual([]);
        expect((await store.readStream(s1)).map((x) => x.id)).toEqual([e.id]);
      });

      it('a retry at another expected revision after the stream grew is a duplicate with the stream\'s current revision', async () => {
        const s = streamOf();
        const e = event('Paid');
        const first = await store.append(s, [e], NO_STREAM);
        await store.append(s, [event(), event()], 0n);
        for (const expected of [NO_STREAM, 0n, 2n, STREAM_EXISTS, ANY] as const) {
          const retry = await store.append(s, [e], expected);
          expect(retry).toEqual({ duplicate: true, position: first.position, nextExpectedRevision: 2n });
        }
        expect((await store.readStream(s)).map((x) => x.id).filter((id) => id === e.id)).toHaveLength(1);
      });

      it('an append whose ids are partly stored is refused and stores nothing', async () => {
        const s = streamOf();
        const a = event('A');
        const b = event('B');
        await store.append(s, [a], NO_STREAM);
        await expect(store.append(s, [a, b], ANY)).rejects.toMatchObject({ name: 'PartialDuplicateError' });
        await expect(store.append(streamOf(), [b, a], NO_STREAM)).rejects.toMatchObject({ name: 'PartialDuplicateError' });
        expect((await store.readStream(s)).map((x) => x.id)).toEqual([a.id]);
        // b is not stored: it can still be appended on its own.
        expect((await store.append(s, [b], 0n)).duplicate).toBe(false);
      });

      it('keeps an id that is not a UUID, and recognises it again', async () => {
        const s = streamOf();
        const e = event('Reported', { n: 1 }, `report-${streamOf()}`);
        const first = await store.append(s, [e], NO_STREAM);
        const [stored] = await store.readStream(s);
        expect(stored.id).toBe(e.id);
        expect(await store.append(streamOf(), [e], ANY)).toMatchObject({ duplicate: true, position: first.position });
      });

      it('of two clients appending the same id at once, one writes it and the other is told it is a duplicate', async () => {
        const other = await harness.openSecond(store);
        try {
          for (let i = 0; i < 5; i++) {
            const s = streamOf();
            const e = event('Paid', { i });
            const results = await Promise.all([store.append(s, [e], NO_STREAM), other.append(s, [e], ANY)]);
            expect(results.map((r) => r.duplicate).sort()).toEqual([false, true]);
            expect(results[0].position).toBe(results[1].position);
            expect(await other.readStream(s)).toHaveLength(1);
          }
          // What one client appends, the other's subscription delivers.
          const s = streamOf();
          const seen: StoredEvent[] = [];
          const sub = other.subscribeToAll((es) => void seen.push(...es.filter((x) => x.streamId === s)), { after: await other.headPosition() });
          try {
            await store.append(s, [event('Seen')]);
            await waitFor(() => seen.length === 1);
            await sub.caughtUp();
            expect(seen.map((x) => x.type)).toEqual(['Seen']);
          } finally {
            await sub.stop();
          }
        } finally {
          await other.close();
        }
      });
    });

    describe('reading: empty logs, long logs, typed windows', () => {
      it('a fresh log has no head and nothing to read', async () => {
        const fresh = await harness.openFresh();
        try {
          expect(await fresh.headPosition()).toBe(-1n);
          expect(await fresh.readAll()).toEqual([]);
          let calls = 0;
          const sub = fresh.subscribeToAll(() => void calls++);
          await sub.caughtUp();
          await sub.stop();
          expect(calls).toBe(0);
        } finally {
          await fresh.close();
        }
      });

      it('pages through more than 1,000 events: a full page, then the rest', async () => {
        const before = await store.headPosition();
        const s = streamOf();
        for (let i = 0; i < 12; i++) await store.append(s, Array.from({ length: 100 }, (_, k) => event('Page', { n: i * 100 + k })));
        const first = await store.readAll({ after: before });
        expect(first).toHaveLength(1000);
        const rest = await store.readAll({ after: first[999].position });
        const n = (es: StoredEvent[]) => es.filter((e) => e.streamId === s).map((e) => (e.data as { n: number }).n);
        expect([...n(first), ...n(rest)]).toEqual(Array.from({ length: 1200 }, (_, i) => i));
        expect(await store.readAll({ after: rest[rest.length - 1].position })).toEqual([]);
      });

      it('a typed read returns the matches among the next maxCount events of the log', async () => {
        const before = await store.headPosition();
        const s = streamOf();
        const x = `X${s.slice(-12)}`;
        await store.append(s, [event(x, { n: 1 }), event('Y'), event('Y'), event(x, { n: 2 }), event('Y'), event(x, { n: 3 })]);
        expect((await store.readAll({ after: before, maxCount: 3, types: [x] })).map((e) => e.data)).toEqual([{ n: 1 }]);
        expect((await store.readAll({ after: before, maxCount: 4, types: [x] })).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
        expect((await store.readAll({ after: before, maxCount: 100, types: [x] })).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
      });
    });

    describe('reading', () => {
      it('reads a stream forwards and backwards from a revision with a count', async () => {
        const s = streamOf();
        await store.append(s, Array.from({ length: 6 }, (_, i) => event('Step', { i })), NO_STREAM);
        const data = (es: StoredEvent[]) => es.map((e) => (e.data as { i: number }).i);
        expect(data(await store.readStream(s))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(data(await store.readStream(s, { fromRevision: 2n, maxCount: 3 }))).toEqual([2, 3, 4]);
        expect(data(await store.readStream(s, { direction: 'backwards' }))).toEqual([5, 4, 3, 2, 1, 0]);
        expect(data(await store.readStream(s, { direction: 'backwards', fromRevision: 3n, maxCount: 2 }))).toEqual([3, 2]);
        expect(data(await store.readStream(s, { direction: 'backwards', maxCount: 1 }))).toEqual([5]);
        expect(await store.readStream(streamOf())).toEqual([]);
      });

      it('reads all from a global position, in order, with a count and a type filter', async () => {
        const before = await store.headPosition();
        const a = streamOf('a');
        const b = streamOf('b');
        await store.append(a, [event('A1')]);
        await store.append(b, [event('B1'), event('B2')]);
        await store.append(a, [event('A2')]);
        const all = (await store.readAll({ after: before, maxCount: 100 })).filter((e) => e.streamId === a || e.streamId === b);
        expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'B2', 'A2']);
        for (let i = 1; i < all.length; i++) expect(all[i].position > all[i - 1].position).toBe(true);
        expect(await store.headPosition()).toBe(all[3].position);
        const rest = (await store.readAll({ after: all[1].position, maxCount: 100 })).filter((e) => e.streamId === a || e.streamId === b);
        expect(rest.map((e) => e.type)).toEqual(['B2', 'A2']);
        expect((await store.readAll({ after: all[0].position, maxCount: 2 })).map((e) => e.type)).toEqual(['B1', 'B2']);
        const typed = await store.readAll({ after: before, maxCount: 100, types: ['A1', 'A2'] });
        expect(typed.filter((e) => e.streamId === a).map((e) => e.type)).toEqual(['A1', 'A2']);
        expect(typed.every((e) => e.type === 'A1' || e.type === 'A2')).toBe(true);
      });
    });

    describe('subscribing to all', () => {
      it('catches up, then receives live events, in order, with no gap and no repeat', async () => {
        const before = await store.headPosition();
        const s = streamOf();
        for (let i = 0; i < 5; i++) await store.append(s, [event('Tick', { i })]);
        const seen: StoredEvent[] = [];
        const sub = store.subscribeToAll((events) => void seen.push(...events.filter((e) => e.streamId === s)), { after: before, batchSize: 2 });
        try {
          await sub.caughtUp();
          expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
          const live = Array.from({ length: 20 }, (_, i) => store.append(s, [event('Tick', { i: i + 5 })]));
          await Promise.all(live);
          await waitFor(() => seen.length >= 25);
          await sub.caughtUp();
          expect(seen.map((e) => (e.data as { i: number }).i).sort((x, y) => x - y)).toEqual(Array.from({ length: 25 }, (_, i) => i));
          expect(seen.map((e) => e.revision)).toEqual(Array.from({ length: 25 }, (_, i) => BigInt(i)));
          for (let i = 1; i < seen.length; i++) expect(seen[i].position > seen[i - 1].position).toBe(true);
          const log = (await store.readAll({ after: before, maxCount: 1000 })).filter((e) => e.streamId === s);
          expect(seen.map((e) => e.id)).toEqual(log.map((e) => e.id));
          expect(sub.lastPosition >= seen[24].position).toBe(true);
        } finally {
          await sub.stop();
        }
      });

      it('starts after the given position and delivers only the subscribed types', async () => {
        const s = streamOf();
        await store.append(s, [event('Keep', { n: 1 })]);
        const mid = (await store.append(s, [event('Skip'), event('Keep', { n: 2 })])).position;
        await store.append(s, [event('Keep', { n: 3 }), event('Skip')]);
        const seen: StoredEvent[] = [];
        const sub = store.subscribeToAll((events) => void seen.push(...events), { after: mid, types: ['Keep'] });
        try {
          await waitFor(() => seen.some((e) => e.streamId === s));
          await sub.caughtUp();
          expect(seen.filter((e) => e.streamId === s).map((e) => e.data)).toEqual([{ n: 3 }]);
          expect(seen.every((e) => e.type === 'Keep')).toBe(true);
          await store.append(s, [event('Skip'), event('Keep', { n: 4 })]);
          await waitFor(() => seen.filter((e) => e.streamId === s).length === 2);
          expect(seen.filter((e) => e.streamId === s).map((e) => e.data)).toEqual([{ n: 3 }, { n: 4 }]);
        } finally {
          await sub.stop();
        }
      });

      it('from the first event of a log opened again, in small batches, delivers every event of its types once and in order among many others', async () => {
        const s = streamOf();
        const rare = `Rare${s.replace(/[^a-z0-9]/gi, '')}`;
        for (let i = 0; i < 10; i++) await store.append(s, [...Array.from({ length: 30 }, () => event('Common')), event(rare, { n: i })]);
        // Opened again: the log is older than this process (a follower that starts at the beginning, as at boot).
        store = await harness.reopen(store);
        const seen: StoredEvent[] = [];
        const sub = store.subscribeToAll((events) => void seen.push(...events), { types: [rare], batchSize: 3 });
        try {
          await waitFor(() => seen.length === 10);
          await sub.caughtUp();
          expect(seen.map((e) => e.data)).toEqual(Array.from({ length: 10 }, (_, n) => ({ n })));
          expect(seen.map((e) => e.position)).toEqual([...seen.map((e) => e.position)].sort((a, b) => (a < b ? -1 : 1)));
          await store.append(s, [event('Common'), event(rare, { n: 10 })]);
          await waitFor(() => seen.length === 11);
          expect(seen[10].data).toEqual({ n: 10 });
        } finally {
          await sub.stop();
        }
      });

      it('does not call the handler again after stop', async () => {
        const s = streamOf();
        let calls = 0;
        const sub = store.subscribeToAll(() => void calls++, { after: await store.headPosition() });
        await store.append(s, [event()]);
        await waitFor(() => calls > 0);
        await sub.stop();
        const after = calls;
        await store.append(s, [event()]);
        await new Promise((r) => setTimeout(r, 150));
        expect(calls).toBe(after);
      });
    });

    describe('subscriptions: positions, failures, backlogs', () => {
      it('lastPosition reaches the head when the last events are of other types, and caughtUp waits for nothing', async () => {
        const s = streamOf();
        const keep = `Keep${s.slice(-12)}`;
        const start = await store.headPosition();
        await store.append(s, [event(keep)]);
        for (let i = 0; i < 5; i++) await store.append(s, [event('Other')]);
        const seen: StoredEvent[] = [];
        const sub = store.subscribeToAll((es) => void seen.push(...es), { after: start, types: [keep] });
        try {
          await sub.caughtUp();
          expect(seen.map((e) => e.type)).toEqual([keep]);
          expect(sub.lastPosition).toBe(await store.headPosition());
          await store.append(s, [event('Other')]);
          await sub.caughtUp();
          expect(sub.lastPosition).toBe(await store.headPosition());
        } finally {
          await sub.stop();
        }
      });

      it('catches up on a matching event far behind 1,500 others, and on a backlog larger than any buffer, once each and in order', async () => {
        const start = await store.headPosition();
        const s = streamOf();
        const rare = `Rare${s.slice(-12)}`;
        await store.append(s, [event(rare, { n: 0 })]);
        for (let i = 0; i < 15; i++) await store.append(s, Array.from({ length: 100 }, () => event('Filler')));
        const rares: StoredEvent[] = [];
        const rareSub = store.subscribeToAll((es) => void rares.push(...es), { after: start, types: [rare] });
        const all: StoredEvent[] = [];
        // A slow handler with small batches: the client's own buffer (16 messages) fills many times over.
        const allSub = store.subscribeToAll(
          async (es) => {
            await new Promise((r) => setImmediate(r));
            all.push(...es.filter((e) => e.streamId === s));
          },
          { after: start, batchSize: 7 },
        );
        try {
          await rareSub.caughtUp();
          expect(rares.map((e) => e.data)).toEqual([{ n: 0 }]);
          await allSub.caughtUp();
          expect(all).toHaveLength(1501);
          expect(all.map((e) => e.revision)).toEqual(Array.from({ length: 1501 }, (_, i) => BigInt(i)));
        } finally {
          await rareSub.stop();
          await allSub.stop();
        }
      });

      it('a handler that throws stops the subscription: caughtUp rejects with its error and the handler is not called again', async () => {
        const start = await store.headPosition();
        const s = streamOf();
        await store.append(s, [event('Boom')]);
        let calls = 0;
        const sub = store.subscribeToAll(
          () => {
            calls++;
            throw new Error('handler failed');
          },
          { after: start },
        );
        try {
          await expect(sub.caughtUp()).rejects.toThrow('handler failed');
          await store.append(s, [event('Boom')]);
          await expect(sub.caughtUp()).rejects.toThrow('handler failed');
          expect(calls).toBe(1);
          expect(sub.lastPosition).toBe(start);
        } finally {
          await sub.stop();
        }
      });

      it('with minBatchIntervalMs under load, caughtUp cuts the pause short and every event arrives once', async () => {
        const start = await store.headPosition();
        const s = streamOf();
        const batches: number[] = [];
        const sub = store.subscribeToAll((es) => void batches.push(es.filter((e) => e.streamId === s).length), { after: start, batchSize: 1000, minBatchIntervalMs: 600_000 });
        try {
          await store.append(s, Array.from({ length: 150 }, () => event('Load')));
          await waitFor(() => batches.reduce((a, b) => a + b, 0) >= 150);
          await store.append(s, Array.from({ length: 150 }, () => event('Load')));
          await sub.caughtUp();
          expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
        } finally {
          await sub.stop();
        }
      });
    });

    describe('durability', () => {
      it('keeps every acknowledged event across a restart, and appends continue from the stored revision', async () => {
        const s = streamOf();
        const written = [event('One'), event('Two')];
        const r = await store.append(s, written, NO_STREAM);
        store = await harness.reopen(store);
        const stored = await store.readStream(s);
        expect(stored.map((e) => e.id)).toEqual(written.map((e) => e.id));
        expect(await store.headPosition()).toBeGreaterThanOrEqual(r.position);
        expect((await store.append(s, [event('Three')], 1n)).nextExpectedRevision).toBe(2n);
        expect((await store.append(s, [written[0]], ANY)).duplicate).toBe(true);
      });
    });
  });
}
