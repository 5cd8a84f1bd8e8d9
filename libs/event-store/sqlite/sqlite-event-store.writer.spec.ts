import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomUUID } from 'crypto';
import type { Worker } from 'worker_threads';
import { SqliteEventStore } from './sqlite-event-store';
import { EventStoreUnavailableError, NewEvent } from '../port';

const ev = (n: number): NewEvent => ({ id: randomUUID(), type: 'Counted', data: { n }, metadata: { occurredAt: '2025-03-10T12:00:00.000Z' } });

/** The writer thread of a store (test-only reach into its internals, to watch or kill it). */
const workerOf = (store: SqliteEventStore): Worker => (store as unknown as { writer: { worker: Worker } }).writer.worker;

describe('SqliteEventStore writer thread', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'writer-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('given appends made in one tick, when they commit, then they reach the writer as one group and each gets its own revision', async () => {
    const store = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal' });
    try {
      await store.ready();
      const worker = workerOf(store);
      const post = worker.postMessage.bind(worker);
      const groups: number[] = [];
      worker.postMessage = (msg: { type: string; group?: unknown[] }) => {
        if (msg.type === 'commit') groups.push(msg.group!.length);
        post(msg);
      };
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(`s-${i % 5}`, [ev(i)])));
      expect(groups).toEqual([50]);
      expect(results.map((r) => r.nextExpectedRevision)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(Math.floor(i / 5))));
      expect(results.map((r) => r.position)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i + 1)));
    } finally {
      await store.close();
    }
  });

  it('given the fault hook, when a group commits, then the hook runs after the events are in the file and before any caller is told', async () => {
    const seen: Array<{ stored: number; acknowledged: boolean }> = [];
    let acknowledged = false;
    const file = path.join(dir, 'events.db');
    const store: SqliteEventStore = new SqliteEventStore({
      file,
      sync: 'normal',
      faultHook: () => seen.push({ stored: (store.readAllSync(-1n, 100) as unknown[]).length, acknowledged }),
    });
    try {
      await store.append('s-1', [ev(1), ev(2)]).then(() => (acknowledged = true));
      expect(seen).toEqual([{ stored: 2, acknowledged: false }]);
    } finally {
      await store.close();
    }
  });

  it('given appends still queued, when the store closes, then every one is committed and acknowledged before it ends', async () => {
    const file = path.join(dir, 'events.db');
    const store = new SqliteEventStore({ file, sync: 'normal' });
    const first = store.append('s-0', [ev(0)]);
    await new Promise((r) => setImmediate(r)); // the first group is in flight
    const rest = Array.from({ length: 99 }, (_, i) => store.append(`s-${i + 1}`, [ev(i + 1)]));
    await store.close();
    const results = await Promise.all([first, ...rest]);
    expect(results.every((r) => !r.duplicate)).toBe(true);
    await expect(store.append('s-x', [ev(1)])).rejects.toBeInstanceOf(EventStoreUnavailableError);
    const again = new SqliteEventStore({ file, sync: 'normal', writer: 'inline' });
    try {
      expect((await again.readAll({ maxCount: 1000 })).map((e) => (e.data as { n: number }).n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await again.close();
    }
  });

  it('given the writer thread dies, then the append in flight and every later one fail with EventStoreUnavailableError, and ping reports it', async () => {
    const store = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal' });
    try {
      await store.append('s-1', [ev(1)]);
      const inFlight = store.append('s-1', [ev(2)]);
      const queued = new Promise((r) => setImmediate(r)).then(() => store.append('s-1', [ev(3)]));
      await workerOf(store).terminate();
      await expect(inFlight).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await expect(queued).rejects.toBeInstanceOf(EventStoreUnavailableError);
      await expect(store.append('s-1', [ev(4)])).rejects.toThrow(/writer thread stopped/);
      await expect(store.ping()).rejects.toBeInstanceOf(EventStoreUnavailableError);
      // Reads still work on this thread's connection.
      expect((await store.readStream('s-1')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await store.close();
    }
  });

  it('given an event whose data cannot be encoded, then only that append fails and the others of its tick commit', async () => {
    const store = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal' });
    try {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const [good, bad] = await Promise.allSettled([store.append('s-1', [ev(1)]), store.append('s-2', [{ ...ev(2), data: circular }])]);
      expect(good).toMatchObject({ status: 'fulfilled', value: { nextExpectedRevision: 0n, duplicate: false } });
      expect(bad).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
    } finally {
      await store.close();
    }
  });
});
