/**
 * A fleet of real Tollgate processes on ONE data directory (the embedded SQLite stores in WAL mode, shared by every
 * process), each on its own port: start them, wait for /health, SIGKILL or restart one, stop them all.
 *
 * Each instance runs src/main.ts, transpiled once per change of the sources (test/support/cluster-build.ts: the
 * same transpileModule as `node -r ts-node/register/transpile-only src/main.ts`, which TOLLGATE_DRILL_TS_NODE=1 uses
 * instead), or `dist/src/main.js` with `dist: true`, or, with
 * `clockFile`, test/support/cluster-instance.ts: the same application with a clock that every instance reads from
 * one shared file (so a drill can move the fleet's time to a period's end). Output of every instance is appended to
 * `<logDir>/instance-<i>.log` and, with `captureOutput`, kept in memory (the secrets canary scans it).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Agent, request as undiciRequest } from 'undici';
import { instanceCommand } from './cluster-build';

export const CLUSTER_ADMIN_KEY = 'tg_admin_cluster_key_0123456789abcdef';
export const CLUSTER_MASTER_KEY = 'a1'.repeat(32);
const ROOT = path.resolve(__dirname, '..', '..');

export interface ClusterOptions {
  /** Number of processes (default 2). */
  instances?: number;
  /** Reuse a data directory (default: a fresh temp dir). */
  dataDir?: string;
  /** Extra environment for every instance (upstreams, LOG_LEVEL, TOLLGATE_TEST_FAULTS...). */
  env?: Record<string, string | undefined>;
  /** Environment for one instance only, by index. */
  instanceEnv?: (index: number) => Record<string, string | undefined>;
  adminKey?: string;
  masterKey?: string;
  /** TOLLGATE_SQLITE_SYNC (default normal: still safe against kill -9). */
  sqliteSync?: 'full' | 'normal';
  logLevel?: string;
  /** Run the compiled build (dist/src/main.js) instead of the TypeScript sources. */
  dist?: boolean;
  /** A file holding the fleet's clock offset in ms (see setClockOffset); uses the cluster-instance entry. */
  clockFile?: string;
  /** Keep every instance's stdout and stderr in memory (for scans). */
  captureOutput?: boolean;
  /** How long an instance may take to answer /health (default 90 s: the machine is shared). */
  startTimeoutMs?: number;
  /** Where instance logs go (default `<dataDir>/logs`, which is outside the stores). */
  logDir?: string;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One Tollgate process. It keeps its port across restarts. */
export class Instance {
  proc: ChildProcess | null = null;
  /** Output of every run of this instance (when captured). */
  output = '';
  /** Exit codes/signals of past runs, oldest first. */
  readonly exits: Array<{ code: number | null; signal: NodeJS.Signals | null }> = [];
  starts = 0;
  /** True from the moment /health answered until the process is killed or stopped. */
  up = false;
  private exited: Promise<void> = Promise.resolve();
  private closed: Promise<void> = Promise.resolve();

  constructor(
    readonly cluster: Cluster,
    readonly index: number,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Spawns the process and waits until /health answers 200 (throws with its output when it exits first). */
  async start(extraEnv: Record<string, string | undefined> = {}): Promise<void> {
    if (this.running) throw new Error(`instance ${this.index} is already running`);
    const c = this.cluster;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      PORT: String(this.port),
      HOST: '127.0.0.1',
      DATA_DIR: c.dataDir,
      TOLLGATE_ADMIN_KEY: c.adminKey,
      TOLLGATE_MASTER_KEY: c.masterKey,
      TOLLGATE_SQLITE_SYNC: c.options.sqliteSync ?? 'normal',
      LOG_LEVEL: c.options.logLevel ?? 'warn',
      ...(c.options.clockFile ? { TOLLGATE_DRILL_CLOCK_FILE: c.options.clockFile } : {}),
      ...c.options.env,
      ...c.options.instanceEnv?.(this.index),
      ...extraEnv,
    };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const cmd = c.options.dist ? { args: [path.join(ROOT, 'dist/src/main.js')], env: {} } : instanceCommand(c.options.clockFile ? 'test/support/cluster-instance.ts' : 'src/main.ts');
    const args = cmd.args;
    Object.assign(env, cmd.env);
    const proc = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.starts++;
    const log = fs.createWriteStream(path.join(c.logDir, `instance-${this.index}.log`), { flags: 'a' });
    log.write(`--- start ${this.starts} pid ${proc.pid} at ${new Date().toISOString()}\n`);
    const onData = (chunk: Buffer) => {
      log.write(chunk);
      if (c.options.captureOutput) this.output += chunk.toString('utf8');
      c.onOutput?.(this, chunk.toString('utf8'));
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    let recent = '';
    const keepRecent = (chunk: Buffer) => {
      recent = (recent + chunk.toString('utf8')).slice(-4000);
    };
    proc.stdout!.on('data', keepRecent);
    proc.stderr!.on('data', keepRecent);
    // 'close' comes after 'exit' once the pipes are drained: the last words of a killed process are read by then.
    this.closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    this.exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.up = false;
        this.exits.push({ code, signal });
        // Let the pipes drain into the log before it closes.
        setTimeout(() => log.end(), 50);
        resolve();
      });
    });
    const deadline = Date.now() + (c.options.startTimeoutMs ?? 90_000);
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await sleep(100);
        throw new Error(`instance ${this.index} exited during start (code ${proc.exitCode}, signal ${proc.signalCode}):\n${recent}`);
      }
      try {
        const r = await c.http(this, 'GET', '/health', { timeoutMs: 2000 });
        if (r.status === 200) {
          this.up = true;
          return;
        }
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        this.kill9();
        await this.exited;
        throw new Error(`instance ${this.index} did not answer /health within ${c.options.startTimeoutMs ?? 90_000} ms:\n${recent}`);
      }
      await sleep(100);
    }
  }

  /** SIGKILL: no shutdown hook runs. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.proc) return;
    this.up = false;
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful: Nest's shutdown hooks close the stores); SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (!this.proc) return;
    this.up = false;
    if (this.running) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc?.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(t);
    }
    await this.exited;
  }

  /** Resolves when the current process has exited (a crash point killed it, or a kill). */
  waitExit(): Promise<void> {
    return this.exited;
  }

  /** Resolves when the current process has exited and everything it wrote to stdout and stderr has been read. */
  waitClosed(): Promise<void> {
    return this.closed;
  }

  async restart(extraEnv: Record<string, string | undefined> = {}): Promise<void> {
    await this.kill9();
    await this.start(extraEnv);
  }

  request(method: string, p: string, opts: RequestOptions = {}): Promise<HttpResult> {
    return this.cluster.http(this, method, p, opts);
  }
}

export interface RequestOptions {
  /** Becomes `Authorization: Bearer <key>`. */
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** N Tollgate processes sharing one data directory. */
export class Cluster {
  readonly instances: Instance[] = [];
  readonly dataDir: string;
  readonly logDir: string;
  readonly adminKey: string;
  readonly masterKey: string;
  readonly agent = new Agent({ connections: 256, pipelining: 0, keepAliveTimeout: 4_000, connect: { timeout: 10_000 } });
  onOutput?: (instance: Instance, text: string) => void;
  private next = 0;

  private constructor(readonly options: ClusterOptions) {
    this.dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-fleet-'));
    this.logDir = options.logDir ?? path.join(this.dataDir, 'logs');
    fs.mkdirSync(this.logDir, { recursive: true });
    this.adminKey = options.adminKey ?? CLUSTER_ADMIN_KEY;
    this.masterKey = options.masterKey ?? CLUSTER_MASTER_KEY;
  }

  /** Creates the cluster and starts its instances one after the other (the first one creates the stores). */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const c = Cluster.create(options);
    await c.addInstances(options.instances ?? 2);
    return c;
  }

  /** Creates the cluster without starting anything (add instances with addInstances). */
  static create(options: ClusterOptions = {}): Cluster {
    const c = new Cluster(options);
    if (options.clockFile && !fs.existsSync(options.clockFile)) fs.writeFileSync(options.clockFile, '0');
    return c;
  }

  /** Adds and starts n instances; the first one alone (it creates the schema), the rest in parallel. */
  async addInstances(n: number): Promise<Instance[]> {
    const added: Instance[] = [];
    for (let i = 0; i < n; i++) {
      const inst = new Instance(this, this.instances.length, await freePort());
      this.instances.push(inst);
      added.push(inst);
    }
    if (!added.length) return added;
    const first = this.instances.length === added.length ? added[0] : null;
    if (first) await first.start();
    await Promise.all(added.filter((i) => i !== first).map((i) => i.start()));
    return added;
  }

  get size(): number {
    return this.instances.length;
  }

  /** The next instance that is up (answered /health and was not killed since), round robin. */
  pick(): Instance {
    for (let i = 0; i < this.instances.length; i++) {
      const inst = this.instances[this.next++ % this.instances.length];
      if (inst.up && inst.running) return inst;
    }
    throw new Error('no instance is running');
  }

  /** Sends a request to an instance; the body is JSON unless a string or Buffer. Parses JSON answers. */
  async http(inst: Instance, method: string, p: string, opts: RequestOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.key) headers.authorization = `Bearer ${opts.key}`;
    let body: string | Buffer | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    const t = opts.timeoutMs ?? 30_000;
    const res = await undiciRequest(inst.url + p, { method: method as any, headers, body, dispatcher: this.agent, headersTimeout: t, bodyTimeout: t });
    const text = await res.body.text();
    let parsed: any = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, headers: res.headers, text, body: parsed };
  }

  /** Admin request on the first running instance. */
  admin(method: string, p: string, body?: unknown): Promise<HttpResult> {
    const inst = this.instances.find((i) => i.running);
    if (!inst) throw new Error('no instance is running');
    return inst.request(method, p, { key: this.adminKey, body });
  }

  /** Moves the fleet's clock (cluster-instance entry only): now = real time + offset. */
  setClockOffset(ms: number): void {
    if (!this.options.clockFile) throw new Error('the cluster was started without clockFile');
    fs.writeFileSync(this.options.clockFile + '.tmp', String(Math.round(ms)));
    fs.renameSync(this.options.clockFile + '.tmp', this.options.clockFile);
  }

  /** Every instance's captured output, concatenated. */
  output(): string {
    return this.instances.map((i) => i.output).join('\n');
  }

  /** Stops every instance (SIGTERM, then SIGKILL) and closes the client. */
  async stop(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.stop()));
    await this.agent.close().catch(() => undefined);
  }

  /** Kills every instance at once (SIGKILL). */
  async killAll(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.kill9()));
  }

  /** Removes the data directory (call after stop). */
  remove(): void {
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
