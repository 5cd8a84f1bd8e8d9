import * as fs from 'fs';
import * as path from 'path';

export const PROVIDER_IDS = ['gemini', 'openai', 'anthropic', 'mistral', 'tavily', 'serper', 'exa', 'firecrawl', 'stability', 'huggingface'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export const DEFAULT_UPSTREAMS: Record<ProviderId, string> = {
  gemini: 'https://generativelanguage.googleapis.com',
  openai: 'https://api.openai.com',
  anthropic: 'https://api.anthropic.com',
  mistral: 'https://api.mistral.ai',
  tavily: 'https://api.tavily.com',
  serper: 'https://google.serper.dev',
  exa: 'https://api.exa.ai',
  firecrawl: 'https://api.firecrawl.dev',
  stability: 'https://api.stability.ai',
  huggingface: 'https://router.huggingface.co',
};

/** Tollgate's configuration, read once from the environment and validated at start. */
export interface AppConfig {
  port: number;
  host: string;
  dataDir: string;
  adminKey: string | null;
  /**
   * The key that seals stored provider keys and webhook secrets: `TOLLGATE_MASTER_KEY` when set (it wins), else the
   * one in `DATA_DIR/master.key` (created by the server's first start, see src/config/master-key-file.ts), else null.
   */
  masterKey: Buffer | null;
  /** Where the master key came from: `env`, `file`, or null (none yet). Never the key itself. */
  masterKeySource: 'env' | 'file' | null;
  /** `DATA_DIR/master.key`: where a first start writes the key it creates, and where later starts read it. */
  masterKeyFile: string;
  /** `TOLLGATE_METRICS_KEY`: when set, `/metrics` asks for it as a bearer key. */
  metricsKey: string | null;
  upstreams: Record<ProviderId, string>;
  /**
   * Per provider, the longest Tollgate waits for the provider's response headers, and then between two chunks of its
   * body (ms): `TOLLGATE_UPSTREAM_TIMEOUT_MS` (default 600,000: an SDK's own default is 10 minutes), overridden by
   * `TOLLGATE_UPSTREAM_TIMEOUT_<PROVIDER>_MS`. A call that times out before the headers is answered 504 and recorded
   * with its estimated prompt; one cut mid-body is recorded as a cut stream.
   */
  upstreamTimeoutsMs: Record<ProviderId, number>;
  /**
   * Whom Fastify believes about the client's address (X-Forwarded-For), which the failed-authentication limiter counts
   * by: `false` (default: the socket's peer), `true` (any proxy), a number of hops, or a comma-separated list of
   * proxy addresses / CIDRs (`TOLLGATE_TRUST_PROXY`).
   */
  trustProxy: boolean | number | string;
  eventStoreUrl: string | null;
  mongodbUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sqliteSync: 'full' | 'normal';
  /** Cron expression of the period-close job. */
  periodCloseCron: string;
  dashboardNoCache: boolean;
  /** Test-only: named crash points (see test/drills). Never set in production. */
  faultPoints: string[];
  /**
   * Where this process runs the projections: `worker` (default) on a worker thread of their own, so the HTTP thread
   * only admits, forwards and appends; `inline` on the HTTP thread (tests with a fake clock, the CLIs).
   */
  projections: 'worker' | 'inline';
  /** Most events a projection batch applies in one transaction (behind a burst, bigger batches write less). */
  projectionBatch: number;
  /**
   * Under load (the last batch held 100 events or more), the least time between the starts of two projection batches:
   * the events of the pause gather into one batch, which writes each user's documents once for all of them.
   */
  projectionPauseMs: number;
  /** `server` (default), or `projector`: the context inside the projection worker (internal, set by the shell). */
  role: 'server' | 'projector';
}

/** The environment each configuration was read from (the projection worker is started with the same one). */
const sources = new WeakMap<AppConfig, Record<string, string | undefined>>();
export const configSource = (c: AppConfig): Record<string, string | undefined> => sources.get(c) ?? { ...process.env };

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`Invalid configuration: ${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const port = intVar(env, 'PORT', 3000, 0, 65535);
  const dataDir = path.resolve(env.DATA_DIR && env.DATA_DIR.trim() ? env.DATA_DIR : './data');
  const adminKey = env.TOLLGATE_ADMIN_KEY?.trim() || null;
  if (adminKey !== null && adminKey.length < 16) throw new ConfigError('TOLLGATE_ADMIN_KEY', 'must be at least 16 characters long');
  let masterKey: Buffer | null = null;
  let masterKeySource: AppConfig['masterKeySource'] = null;
  const masterKeyFile = path.join(dataDir, MASTER_KEY_FILE);
  const mk = env.TOLLGATE_MASTER_KEY?.trim();
  if (mk) {
    masterKey = parseMasterKey(mk);
    if (!masterKey) throw new ConfigError('TOLLGATE_MASTER_KEY', 'must be 32 bytes as 64 hex characters or base64 (generate one with: openssl rand -hex 32)');
    masterKeySource = 'env';
  } else {
    masterKey = readMasterKeyFile(masterKeyFile);
    if (masterKey) masterKeySource = 'file';
  }
  const metricsKey = env.TOLLGATE_METRICS_KEY?.trim() || null;
  if (metricsKey !== null && metricsKey.length < 16) throw new ConfigError('TOLLGATE_METRICS_KEY', 'must be at least 16 characters long');
  const host = env.HOST?.trim() || '0.0.0.0';
  if (!/^[0-9A-Za-z.:\-\[\]]+$/.test(host)) throw new ConfigError('HOST', `must be an address or host name to listen on (0.0.0.0, 127.0.0.1, ::), got "${host}"`);
  const upstreams = { ...DEFAULT_UPSTREAMS };
  for (const p of PROVIDER_IDS) {
    const name = `TOLLGATE_UPSTREAM_${p.toUpperCase()}`;
    const v = env[name]?.trim();
    if (v) {
      if (!/^https?:\/\/[^\s]+$/.test(v)) throw new ConfigError(name, `must be an http(s) URL, got "${v}"`);
      upstreams[p] = v.replace(/\/+$/, '');
    }
  }
  const defaultTimeout = intVar(env, 'TOLLGATE_UPSTREAM_TIMEOUT_MS', 600_000, 1_000, 3_600_000);
  const upstreamTimeoutsMs = {} as Record<ProviderId, number>;
  for (const p of PROVIDER_IDS) upstreamTimeoutsMs[p] = intVar(env, `TOLLGATE_UPSTREAM_TIMEOUT_${p.toUpperCase()}_MS`, defaultTimeout, 1_000, 3_600_000);
  const eventStoreUrl = env.EVENTSTORE_URL?.trim() || null;
  if (eventStoreUrl && !/^esdb(\+discover)?:\/\//.test(eventStoreUrl)) throw new ConfigError('EVENTSTORE_URL', 'must be an esdb:// or esdb+discover:// connection string (the client Tollgate uses reads no kurrentdb:// URL: write esdb:// with the same hosts and options)');
  const mongodbUrl = env.MONGODB_URL?.trim() || null;
  if (mongodbUrl && !/^mongodb(\+srv)?:\/\//.test(mongodbUrl)) throw new ConfigError('MONGODB_URL', 'must be a mongodb:// connection string');
  const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as AppConfig['logLevel'];
  if (!levels.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${levels.join(', ')}`);
  const sync = (env.TOLLGATE_SQLITE_SYNC?.trim() || 'full') as AppConfig['sqliteSync'];
  if (sync !== 'full' && sync !== 'normal') throw new ConfigError('TOLLGATE_SQLITE_SYNC', 'must be full or normal');
  const projections = (env.TOLLGATE_PROJECTIONS?.trim() || 'worker') as AppConfig['projections'];
  if (projections !== 'worker' && projections !== 'inline') throw new ConfigError('TOLLGATE_PROJECTIONS', 'must be worker or inline');
  const role = (env.TOLLGATE_ROLE?.trim() || 'server') as AppConfig['role'];
  if (role !== 'server' && role !== 'projector') throw new ConfigError('TOLLGATE_ROLE', 'must be server or projector');
  const config: AppConfig = {
    port,
    host,
    dataDir,
    adminKey,
    masterKey,
    masterKeySource,
    masterKeyFile,
    metricsKey,
    upstreams,
    upstreamTimeoutsMs,
    trustProxy: parseTrustProxy(env.TOLLGATE_TRUST_PROXY),
    eventStoreUrl,
    mongodbUrl,
    logLevel,
    sqliteSync: sync,
    periodCloseCron: env.TOLLGATE_PERIOD_CLOSE_CRON?.trim() || '0 * * * * *',
    dashboardNoCache: /^(1|true|yes)$/i.test(env.SUBSCRIPTION_DASHBOARD_NOCACHE ?? ''),
    faultPoints: (env.TOLLGATE_TEST_FAULTS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    projections: role === 'projector' ? 'inline' : projections,
    projectionBatch: intVar(env, 'TOLLGATE_PROJECTION_BATCH', 10_000, 100, 100_000),
    // On the projection worker's own thread a longer pause costs the HTTP thread nothing; inline, a big batch would
    // hold the HTTP thread's event loop, so the pause stays short there.
    projectionPauseMs: intVar(env, 'TOLLGATE_PROJECTION_PAUSE_MS', role === 'projector' ? 500 : 50, 0, 10_000),
    role,
  };
  sources.set(config, { ...env });
  return config;
}

function parseTrustProxy(raw: string | undefined): boolean | number | string {
  const v = raw?.trim();
  if (!v || /^(false|0|no)$/i.test(v)) return false;
  if (/^(true|yes)$/i.test(v)) return true;
  if (/^\d+$/.test(v)) return Number(v);
  const parts = v.split(',').map((s) => s.trim());
  if (parts.every((s) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(s))) return parts.join(',');
  throw new ConfigError('TOLLGATE_TRUST_PROXY', `must be true, false, a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs, got "${v}"`);
}

function intVar(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** The file name of the master key a first start creates in DATA_DIR. */
export const MASTER_KEY_FILE = 'master.key';

/** The key in DATA_DIR/master.key, or null when there is no such file. A file that holds no key is an error. */
function readMasterKeyFile(file: string): Buffer | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    // No such file (ENOTDIR: a part of DATA_DIR is a file, so there is none either; the stores then say what is wrong).
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new ConfigError('DATA_DIR/master.key', `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): ${file}`);
  }
  const key = parseMasterKey(text.trim());
  if (!key) throw new ConfigError('DATA_DIR/master.key', `${file} must hold the master key as 64 hex characters (restore it from your backup, or set TOLLGATE_MASTER_KEY)`);
  return key;
}

export function parseMasterKey(v: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  try {
    const b = Buffer.from(v, 'base64');
    if (b.length === 32) return b;
  } catch {
    /* not base64 */
  }
  return null;
}
