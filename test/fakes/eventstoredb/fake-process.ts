/**
 * Starts the EventStoreDB protocol fake (a test double, not a store) in a child process (serve.ts) and drives it over
 * its HTTP control: the fake outlives the app processes a drill kills, as a server would.
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export interface FakeProcess {
  /** `esdb://127.0.0.1:<port>?tls=false` */
  url: string;
  control(pathAndQuery: string): Promise<any>;
  /** Writes Tollgate's events (JSON lines) to `file`; returns their number. */
  dump(file: string): Promise<number>;
  stop(): Promise<void>;
}

export async function startFakeProcess(): Promise<FakeProcess> {
  const proc: ChildProcess = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'test/fakes/eventstoredb/serve.ts')], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ grpc: number; control: number }>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    proc.once('exit', (code) => reject(new Error(`the EventStoreDB fake exited with ${code}`)));
  });
  const control = (p: string) =>
    new Promise<any>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: ports.control, path: p, method: 'POST' }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`fake control ${p}: ${res.statusCode} ${body}`))));
      });
      req.on('error', reject);
      req.end();
    });
  return {
    url: `esdb://127.0.0.1:${ports.grpc}?tls=false`,
    control,
    async dump(file) {
      return (await control(`/dump?file=${encodeURIComponent(file)}`)).events;
    },
    async stop() {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
