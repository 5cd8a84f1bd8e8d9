import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { SyncMode } from '../../sqlite/open-database';
import { workerExecArgv } from '../../threads/exec-argv';
import type { EncodedAppend, GroupResult } from './sqlite-appender';

/** Where a group of appends is committed: on the main thread (inline) or on the writer thread. */
export interface GroupWriter {
  /** Commits one group; `done` is called once, after the COMMIT returned (or failed). One group at a time. */
  commit(group: EncodedAppend[], done: (result: GroupResult) => void): void;
  /** Resolves once the writer can commit; rejects with the reason it cannot (the file would not open). */
  ready(): Promise<void>;
  /** Why the writer cannot commit any more (null while it can). */
  readonly failure: string | null;
  /** Closes the writer's connection (after the group in flight, which the caller awaits first). */
  close(): Promise<void>;
}

/**
 * The worker's entry file: the .js beside this one when compiled (dist/). Under ts-node and Jest it is the .ts, and a
 * Worker is a plain Node isolate (Jest's module system does not reach into it; ts-node there would load the whole
 * TypeScript compiler, ~70 MB and ~300 ms per store): this thread transpiles the worker's three files once and the
 * worker loads them from workerData.
 */
function spawnWriter(file: string, sync: SyncMode | undefined): Worker {
  const ext = path.extname(__filename);
  if (ext !== '.ts') return new Worker(path.join(__dirname, 'sqlite-writer.worker.js'), { workerData: { file, sync }, execArgv: workerExecArgv() });
  const entry = path.join(__dirname, 'sqlite-writer.worker.ts');
  const boot = `
    const { workerData } = require('worker_threads');
    const sources = workerData.sources;
    require.extensions['.ts'] = (m, f) => {
      if (!(f in sources)) throw new Error('the writer thread loads only its own files, not ' + f);
      m._compile(sources[f], f);
    };
    require(${JSON.stringify(entry)});`;
  return new Worker(boot, { eval: true, workerData: { file, sync, sources: transpiledSources(entry) }, execArgv: withoutTsNode(workerExecArgv()) });
}

let transpiled: Record<string, string> | null = null;

/** The worker's files as CommonJS, transpiled once per process (types are checked by tsc, not here). */
function transpiledSources(entry: string): Record<string, string> {
  if (transpiled) return transpiled;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const files = [entry, path.join(__dirname, 'sqlite-appender.ts'), path.resolve(__dirname, '../../sqlite/open-database.ts')];
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, sourceMap: false, inlineSourceMap: true };
  transpiled = Object.fromEntries(files.map((f) => [f, ts.transpileModule(fs.readFileSync(f, 'utf8'), { compilerOptions, fileName: f }).outputText]));
  return transpiled;
}

/** The parent's Node options less its ts-node preload (the worker gets its files transpiled). */
function withoutTsNode(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '-r' || a === '--require') && /ts-node/.test(argv[i + 1] ?? '')) i++;
    else if (!/^--require=.*ts-node/.test(a)) out.push(a);
  }
  return out;
}

/**
 * The main thread's side of the writer thread. The worker is unreferenced while idle (an open store never keeps a
 * process alive) and referenced while a group is in flight (a pending append does). A worker that dies fails the
 * group in flight and every later one, never leaving a caller waiting.
 */
export class ThreadGroupWriter implements GroupWriter {
  private readonly worker: Worker;
  private inFlight: { id: number; done: (result: GroupResult) => void } | null = null;
  private nextId = 1;
  private dead: string | null = null;
  private readonly readyPromise: Promise<void>;
  private readonly exited: Promise<void>;

  constructor(file: string, sync: SyncMode | undefined) {
    this.worker = spawnWriter(file, sync);
    this.worker.unref();
    let markReady!: () => void;
    let markFailed!: (e: Error) => void;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markFailed = reject;
    });
    // ready() may never be awaited (a constructor-only caller): a failed open is reported by the appends too.
    this.readyPromise.catch(() => undefined);
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (msg: { type: string; id?: number; result?: GroupResult; message?: string }) => {
      if (msg.type === 'committed') {
        const flight = this.inFlight;
        if (!flight || flight.id !== msg.id) return;
        this.inFlight = null;
        this.worker.unref();
        flight.done(msg.result!);
      } else if (msg.type === 'ready') {
        markReady();
      } else if (msg.type === 'open-failed') {
        this.fail(`the writer could not open the file: ${msg.message}`);
        markFailed(new Error(msg.message));
      }
    });
    this.worker.on('error', (err) => {
      this.fail(`the writer thread failed: ${err.message}`);
      markFailed(err);
    });
    this.worker.on('exit', (code) => {
      this.fail(`the writer thread stopped (exit code ${code})`);
      markFailed(new Error(`the writer thread stopped (exit code ${code})`));
    });
  }

  get failure(): string | null {
    return this.dead;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  commit(group: EncodedAppend[], done: (result: GroupResult) => void): void {
    if (this.dead) return done({ ok: false, message: this.dead });
    if (this.inFlight) throw new Error('one group at a time');
    const id = this.nextId++;
    this.inFlight = { id, done };
    this.worker.ref();
    try {
      this.worker.postMessage({ type: 'commit', id, group });
    } catch (err) {
      // An event that cannot be cloned never gets here (JSON is encoded before); anything else fails the group.
      this.inFlight = null;
      this.worker.unref();
      done({ ok: false, message: `the group could not be sent to the writer: ${(err as Error).message}` });
    }
  }

  /** Marks the writer dead and fails the group in flight (its outcome is unknown: ids make a retry safe). */
  private fail(reason: string): void {
    if (!this.dead) this.dead = reason;
    const flight = this.inFlight;
    this.inFlight = null;
    flight?.done({ ok: false, message: this.dead });
  }

  async close(): Promise<void> {
    if (!this.dead) {
      this.worker.ref();
      this.worker.postMessage({ type: 'close' });
      const timer = setTimeout(() => void this.worker.terminate(), 5000);
      await this.exited;
      clearTimeout(timer);
    } else {
      await this.worker.terminate();
    }
    this.dead ??= 'the event store is closed';
  }
}
