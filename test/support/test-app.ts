import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { buildApp } from '../../src/app.factory';
import { FakeClock } from '../../libs/clock';
import { ProxyService } from '../../src/gateway';
import { PROJECTION_RUNNER, LazyProjectionRunner } from '../../src/shell';

export const TEST_ADMIN_KEY = 'tg_admin_test_key_0123456789abcdef';
export const TEST_MASTER_KEY = '0'.repeat(63) + '1';

export interface TestApp {
  app: NestFastifyApplication;
  /** Base URL, e.g. http://127.0.0.1:43123 */
  url: string;
  clock: FakeClock;
  dataDir: string;
  /** Sends a request; `key` becomes `Authorization: Bearer`. Returns status, headers and the parsed JSON (or text). */
  request(method: string, p: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  /** Waits until every projection has applied every stored event. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the real HTTP application on a fresh data dir (embedded SQLite stores) with a FakeClock, on a free port.
 * `env` adds or overrides variables (TOLLGATE_UPSTREAM_OPENAI...); `dataDir` reuses a directory (restart tests).
 */
export async function startTestApp(options: { env?: Record<string, string>; clock?: FakeClock; dataDir?: string; now?: string } = {}): Promise<TestApp> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-test-'));
  const clock = options.clock ?? new FakeClock(options.now ?? '2025-03-10T12:00:00.000Z');
  const env = {
    PATH: process.env.PATH,
    DATA_DIR: dataDir,
    TOLLGATE_ADMIN_KEY: TEST_ADMIN_KEY,
    TOLLGATE_MASTER_KEY: TEST_MASTER_KEY,
    LOG_LEVEL: 'silent',
    TOLLGATE_SQLITE_SYNC: 'normal',
    // Projections on the test's own thread (the fake clock is this thread's); worker mode has specs of its own.
    TOLLGATE_PROJECTIONS: process.env.TOLLGATE_TEST_PROJECTIONS ?? 'inline',
    ...options.env,
  } as NodeJS.ProcessEnv;
  const app = await buildApp({ env, clock, quiet: env.LOG_LEVEL === 'silent' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as import('net').AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  const runner = app.get<LazyProjectionRunner>(PROJECTION_RUNNER);
  return {
    app,
    url,
    clock,
    dataDir,
    async request(method, p, opts = {}) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.key) headers.authorization = `Bearer ${opts.key}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + p, { method, headers, body });
      const text = await res.text();
      let parsed: any = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        /* not JSON */
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    // Every gateway call answered so far is recorded (records are appended after the response), then projected.
    settle: async () => {
      await app.get(ProxyService).idle();
      await runner.get().caughtUp();
    },
    close: () => app.close(),
  };
}
