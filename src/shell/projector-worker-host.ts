import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Clock, FakeClock, SystemClock } from '../../libs/clock';
import type { StoredEvent } from '../../libs/event-store/port';
import type { Projection } from '../../libs/projections';
import type { ProjectionStatus, RebuildProgress } from '../../libs/projections/projection-runner';
import type { ReadStore, Update } from '../../libs/read-store/port';
import { rootLogger } from './logger';
import { workerExecArgv } from '../../libs/threads/exec-argv';
import type { ProjectionControl } from './projection-control';

/** Messages from the projection worker (see projector.worker.ts). */
export type FromWorker =
  | { kind: 'ready'; names: string[] }
  | { kind: 'failed'; error: { name: string; message: string } }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: { name: string; message: string } }
  | { kind: 'progress'; id: number; done: number; position: bigint; head: bigint }
  | { kind: 'committed'; name: string; events: StoredEvent[] }
  | { kind: 'rebuilt'; name: string };

/** Messages to the projection worker. */
export type ToWorker =
  | { kind: 'clock'; offset: number; frozen: boolean }
  | { kind: 'call'; id: number; method: 'status' | 'caughtUp' | 'rebuild' | 'stop'; args: unknown[] }
  | { kind: 'upsert'; collection: string; id: string; update: Update };

/** How often this thread's clock is compared with the worker's (a test's fake clock moves the worker's too). */
const CLOCK_SYNC_MS = 20;
/** A worker that dies after it was ready is started again after this long. */
const RESTART_MS = 1_000;

/**
 * Runs the projections on a worker thread of their own (config `projections: worker`, the default), so the HTTP
 * thread only admits, forwards and appends. The worker boots the same application as a context without HTTP, jobs or
 * metering's ledger, runs the ProjectionRunner there, and reports every committed batch back: this thread then runs
 * the projection's `afterCommit` on its own instance (cache invalidations: revoked keys, tenants, dashboard
 * versions, the webhook dispatcher's wake-up). Status, catch-up and rebuilds are asked of the worker.
 */
export class ProjectorWorkerHost implements ProjectionControl {
  private worker: Worker | null = null;
  private readonly byName = new Map<string, Projection>();
  private readonly calls = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void; progress?: RebuildProgress }>();
  private nextId = 1;
  private stopping = false;
  private clockTimer: NodeJS.Timeout | null = null;
  private lastOffset = NaN;
  private readyOnce: Promise<void> | null = null;
  private lastError: string | null = null;
  private readonly log = rootLogger().child({ component: 'projections' });

  constructor(
    projections: Projection[],
    private readonly env: Record<string, string | undefined>,
    private readonly clock: Clock,
    private readonly reads: ReadStore,
  ) {
    for (const p of projections) this.byName.set(p.name, p);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Starts the worker and resolves once its projections follow the log (rejects if it cannot start). */
  start(): Promise<void> {
    this.readyOnce ??= this.spawn();
    return this.readyOnce;
  }

  async status(): Promise<ProjectionStatus[]> {
    if (!this.worker) return this.names.map((name) => ({ name, checkpoint: '-1', lag: 0, running: false, error: this.lastError ?? 'The projection worker is not running.' }));
    return this.call('status', []);
  }

  caughtUp(timeoutMs?: number): Promise<void> {
    return this.call('caughtUp', [timeoutMs]);
  }

  rebuild(name: string, onProgress?: RebuildProgress): Promise<{ events: number; ms: number }> {
    return this.call('rebuild', [name], onProgress);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.clockTimer) clearInterval(this.clockTimer);
    const w = this.worker;
    if (!w) return;
    try {
      await Promise.race([this.call('stop', []), new Promise((r) => setTimeout(r, 5_000))]);
    } catch {
      /* stopping anyway */
    }
    this.worker = null;
    await w.terminate();
  }

  /**
   * A best-effort read-model write done on the worker's connection (a key's last use): on this thread it could wait,
   * synchronously, for the worker's batch transaction to release SQLite's write lock. False when no worker runs.
   */
  upsert(collection: string, id: string, update: Update): boolean {
    if (!this.worker) return false;
    this.worker.postMessage({ kind: 'upsert', collection, id, update } satisfies ToWorker);
    return true;
  }

  private spawn(): Promise<void> {
    const { file, execArgv } = workerEntry();
    const worker = new Worker(file, { execArgv, env: { ...this.env, TOLLGATE_ROLE: 'projector' }, workerData: { offset: this.offset(), frozen: this.frozen }, stdout: false, stderr: false });
    this.worker = worker;
    // The HTTP server keeps the process alive; the worker alone must not (a failed start, a test's forgotten app).
    worker.unref();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        if (m.kind === 'ready') {
          ready = true;
          this.lastError = null;
          this.syncClock();
          resolve();
        } else if (m.kind === 'failed') {
          const err = Object.assign(new Error(m.error.message), { name: m.error.name });
          if (!ready) {
            this.stopping = true;
            void worker.terminate();
            reject(err);
          }
          else this.log.error({ err: m.error.message }, 'projection worker failed');
        } else this.onMessage(m);
      });
      worker.on('error', (err) => {
        this.lastError = err.message;
        if (!ready) reject(err);
        else this.log.error({ err: err.message }, 'projection worker crashed');
      });
      worker.on('exit', (code) => {
        if (this.worker === worker) this.worker = null;
        const gone = new Error(`The projection worker exited (code ${code}).`);
        for (const c of this.calls.values()) c.reject(gone);
        this.calls.clear();
        if (!ready) return reject(gone);
        if (this.stopping) return;
        this.lastError = gone.message;
        this.log.error({ code }, 'projection worker exited: starting it again');
        setTimeout(() => {
          if (this.stopping) return;
          this.readyOnce = this.spawn();
          this.readyOnce.catch((err) => this.log.error({ err: (err as Error).message }, 'projection worker did not start again'));
        }, RESTART_MS).unref();
      });
      // Only a clock that can move apart from real time (a test's, a drill's) needs watching.
      if (!(this.clock instanceof SystemClock)) {
        this.clockTimer ??= setInterval(() => this.syncClock(), CLOCK_SYNC_MS);
        this.clockTimer.unref();
      }
    });
  }

  private onMessage(m: FromWorker): void {
    switch (m.kind) {
      case 'reply': {
        const c = this.calls.get(m.id);
        if (!c) return;
        this.calls.delete(m.id);
        if (m.ok) c.resolve(m.value);
        else c.reject(Object.assign(new Error(m.error.message), { name: m.error.name }));
        return;
      }
      case 'progress':
        this.calls.get(m.id)?.progress?.(m.done, m.position, m.head);
        return;
      case 'committed':
        try {
          this.byName.get(m.name)?.afterCommit?.(m.events);
        } catch (err) {
          this.log.error({ projection: m.name, err: (err as Error).message }, 'afterCommit failed');
        }
        return;
      case 'rebuilt':
        // A rebuild emptied the read model in the worker: this thread's instance starts a new generation of its caches.
        void Promise.resolve(this.byName.get(m.name)?.setup?.(this.reads)).catch((err) => this.log.error({ projection: m.name, err: (err as Error).message }, 'setup failed'));
        return;
      default:
        return;
    }
  }

  private call<T>(method: 'status' | 'caughtUp' | 'rebuild' | 'stop', args: unknown[], progress?: RebuildProgress): Promise<T> {
    const w = this.worker;
    if (!w) return Promise.reject(new Error(this.lastError ?? 'The projection worker is not running.'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.calls.set(id, { resolve, reject, progress });
      w.postMessage({ kind: 'call', id, method, args } satisfies ToWorker);
    });
  }

  /** A test's fake clock stands still between its moves: the worker's must too (then `offset` is the time itself). */
  private get frozen(): boolean {
    return this.clock instanceof FakeClock;
  }

  private offset(): number {
    return this.clock.now().getTime() - (this.frozen ? 0 : Date.now());
  }

  /** Tells the worker this thread's clock when it moved (a fake or drill clock); a real clock never does. */
  private syncClock(): void {
    const offset = this.offset();
    if (offset === this.lastOffset || (!this.frozen && Math.abs(offset - this.lastOffset) < 2)) return;
    this.lastOffset = offset;
    this.worker?.postMessage({ kind: 'clock', offset, frozen: this.frozen } satisfies ToWorker);
  }
}

/** The worker's file: compiled .js next to this one, or the .ts source run through ts-node (npm scripts, tests). */
function workerEntry(): { file: string; execArgv: string[] } {
  const js = path.join(__dirname, 'projector.worker.js');
  const argv = workerExecArgv();
  if (fs.existsSync(js)) return { file: js, execArgv: argv };
  const ts = path.join(__dirname, 'projector.worker.ts');
  const hasTsNode = argv.some((a) => a.includes('ts-node'));
  return { file: ts, execArgv: hasTsNode ? argv : [...argv, '-r', 'ts-node/register/transpile-only'] };
}
