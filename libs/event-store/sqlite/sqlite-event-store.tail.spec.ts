import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import { SqliteEventStore } from './sqlite-event-store';
import { StoredEvent } from '../port';

/** One store on a fresh file, closed and removed after `body`. */
async function withStore(pollIntervalMs: number, body: (store: SqliteEventStore) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-'));
  const store = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs });
  try {
    await body(store);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ev = (n: number) => ({ id: randomUUID(), type: n % 3 === 0 ? 'Other' : 'Counted', data: { n }, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } });

describe('SqliteEventStore shared tail', () => {
  it('given two processes appending to one file, when subscribers read from the shared tail, then each gets every event once, in order', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tail-'));
    const file = path.join(dir, 'events.db');
    const a = new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 5 });
    const b = new SqliteEventStore({ file, sync: 'normal', pollIntervalMs: 5 });
    try {
      await a.append('s-early', [ev(0)]);
      const all: StoredEvent[] = [];
      const counted: StoredEvent[] = [];
      const s1 = a.subscribeToAll((es) => void all.push(...es), { batchSize: 7 });
      const s2 = a.subscribeToAll((es) => void counted.push(...es), { types: ['Counted'], batchSize: 3 });
      for (let i = 1; i <= 60; i++) {
        const store = i % 4 === 0 ? b : a;
        await Promise.all([store.append(`s-${i}`, [ev(i)]), i % 5 === 0 ? b.append(`t-${i}`, [ev(i + 1000), ev(i + 2000)]) : null]);
      }
      await s1.caughtUp();
      await s2.caughtUp();
      const stored = await a.readAll({ maxCount: 1000 });
      expect(all.map((e) => e.position)).toEqual(stored.map((e) => e.position));
      expect(all.map((e) => e.data)).toEqual(stored.map((e) => e.data));
      expect(counted.map((e) => e.id)).toEqual(stored.filter((e) => e.type === 'Counted').map((e) => e.id));
      await s1.stop();
      await s2.stop();
    } finally {
      await a.close();
      await b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('given a subscriber, when an event is appended, then the tail hands on the appended data (equal to what the log holds) and, under test, freezes it', async () => {
    // A long poll interval: the subscriber reads this process's commits from the tail, never from the file.
    await withStore(60_000, async (a) => {
      const seen: StoredEvent[] = [];
      const sub = a.subscribeToAll((es) => void seen.push(...es));
      await a.append('s-first', [ev(1)]);
      await sub.caughtUp();
      seen.length = 0;
      const data = { n: 1, cost: '0.000045', nested: { calls: [1, 2] }, latency_ms: undefined };
      await a.append('s-frozen', [{ id: randomUUID(), type: 'Counted', data, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } }]);
      await sub.caughtUp();
      expect(seen[0].data).toBe(data);
      expect(JSON.parse(JSON.stringify(seen[0].data))).toEqual((await a.readAll())[1].data);
      expect(() => {
        (data as { n: number }).n = 2;
      }).toThrow(TypeError);
      expect(() => data.nested.calls.push(3)).toThrow(TypeError);
      await sub.stop();
    });
  });

  it('given subscribers that keep up, the tail keeps only what one of them has not read yet; a late subscriber reads the rest from the file', async () => {
    await withStore(5, async (a) => {
      const fast: StoredEvent[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const slow: StoredEvent[] = [];
      const s1 = a.subscribeToAll((es) => void fast.push(...es));
      for (let i = 1; i <= 50; i++) await a.append(`s-${i}`, [ev(i)]);
      await s1.caughtUp();
      await a.append('s-51', [ev(51)]);
      await s1.caughtUp();
      // Trimmed at each commit: only the group committed after the follower's last read is left.
      expect(a.tailEvents).toBeLessThanOrEqual(1);

      // A follower that stops reading keeps what it has not read (up to tailSize), and gets it all once released.
      const s2 = a.subscribeToAll(async (es) => {
        slow.push(...es);
        await gate;
      }, { batchSize: 10 });
      await new Promise((r) => setTimeout(r, 30));
      for (let i = 52; i <= 80; i++) await a.append(`s-${i}`, [ev(i)]);
      await s1.caughtUp();
      expect(a.tailEvents).toBeGreaterThanOrEqual(29);
      release();
      await s2.caughtUp();
      const stored = await a.readAll({ maxCount: 1000 });
      expect(slow.map((e) => e.position)).toEqual(stored.map((e) => e.position));
      expect(fast.map((e) => e.position)).toEqual(stored.map((e) => e.position));
      await s1.stop();
      await s2.stop();
    });
  });
});
