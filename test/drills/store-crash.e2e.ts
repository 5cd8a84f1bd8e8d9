import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../../libs/read-store/sqlite/sqlite-read-store';
import { ProjectionRunner } from '../../libs/projections';
import { userTotalsProjection } from '../contracts/user-totals.projection';

const root = path.resolve(__dirname, '../..');
const node = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ...args], { cwd: root, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function totalsOf(store: SqliteReadStore): Promise<Record<string, number>> {
  const page = await store.collection('user_totals').find({}, { limit: 10_000 });
  return Object.fromEntries(page.items.map((d) => [d._id, d.total as number]));
}

describe('crash drill: kill -9 while appending and projecting', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-crash-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged event exactly once, opens cleanly, and the projection resumes to the rebuilt state', async () => {
    const acknowledged = new Set<string>();
    const rounds = 6;
    for (let round = 0; round < rounds; round++) {
      const child = node(['test/drills/store-crash-child.ts', dir, String(round)]);
      let buffer = '';
      let acksThisRound = 0;
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const firstAck = new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => {
          buffer += chunk.toString('utf8');
          const lines = buffer.split('\n');
          buffer = lines.pop()!; // an incomplete last line was cut by the kill: not acknowledged
          for (const line of lines) {
            const m = /^ack ([0-9a-f-]{36})$/.exec(line);
            if (m) {
              acknowledged.add(m[1]);
              if (++acksThisRound === 1) resolve();
            }
          }
        });
        child.once('exit', () => reject(new Error(`the writer exited before its first append: ${stderr}`)));
      });
      await firstAck;
      // A random moment: mid group commit, mid projection batch, or between them.
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 600)));
      child.kill('SIGKILL');
      await exited(child);
      expect(acksThisRound).toBeGreaterThan(0);

      // The files open cleanly and pass SQLite's own check.
      for (const file of ['events.db', 'read-models.db']) {
        const db = new Database(path.join(dir, file));
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        db.close();
      }
      const events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'normal', pollIntervalMs: 10 });
      const reads = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
      try {
        // Every acknowledged event is present exactly once.
        const seen = new Map<string, number>();
        const expected: Record<string, number> = {};
        for (let after = -1n; ; ) {
          const page = await events.readAll({ after, maxCount: 5000 });
          if (!page.length) break;
          for (const e of page) {
            seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
            const d = e.data as { user_id: string; tokens: number };
            expected[d.user_id] = (expected[d.user_id] ?? 0) + d.tokens;
          }
          after = page[page.length - 1].position;
        }
        const missing = [...acknowledged].filter((id) => seen.get(id) !== 1);
        expect(missing).toEqual([]);
        expect([...seen.values()].every((c) => c === 1)).toBe(true);

        // The projection resumes from its checkpoint to the same state as a full rebuild (and as the log says).
        const resumed = new ProjectionRunner(events, reads, [userTotalsProjection('user_totals', 'user_totals')]);
        await resumed.start();
        await resumed.caughtUp();
        await resumed.stop();
        expect(await totalsOf(reads)).toEqual(expected);
        const rebuiltStore = new SqliteReadStore({ file: path.join(dir, `rebuilt-${round}.db`) });
        const rebuilt = new ProjectionRunner(events, rebuiltStore, [userTotalsProjection('user_totals', 'user_totals')]);
        await rebuilt.rebuild('user_totals');
        expect(await totalsOf(rebuiltStore)).toEqual(await totalsOf(reads));
        await rebuiltStore.close();
      } finally {
        await reads.close();
        await events.close();
      }
    }
    expect(acknowledged.size).toBeGreaterThan(rounds);
  }, 60_000);
});

describe('a store that cannot be used gives a clear error at start, not a stack trace', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-badstore-'));
  afterAll(() => {
    try {
      fs.chmodSync(path.join(dir, 'readonly'), 0o755);
    } catch {
      /* not created */
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(dataDir: string): Promise<{ code: number | null; stderr: string }> {
    const child = node(['src/main.ts'], { DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error' });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited(child);
    clearTimeout(timer);
    return { code, stderr };
  }

  function expectClearStartError(r: { code: number | null; stderr: string }, says: RegExp): void {
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Tollgate cannot start: /m);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  }

  it('a corrupt (non-SQLite) event store file', async () => {
    const d = path.join(dir, 'corrupt');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'events.db'), Buffer.alloc(8192, 'not a database, just bytes. '));
    expectClearStartError(await start(d), /events\.db: the file is not a SQLite database/);
  });

  it('a data directory it cannot write', async () => {
    let d: string;
    if (process.getuid?.() === 0) {
      // root ignores permission bits: a path through a regular file is as unwritable as it gets.
      fs.writeFileSync(path.join(dir, 'a-file'), 'x');
      d = path.join(dir, 'a-file', 'data');
    } else {
      d = path.join(dir, 'readonly');
      fs.mkdirSync(d);
      fs.chmodSync(d, 0o555);
    }
    expectClearStartError(await start(d), /Cannot use the data directory .*DATA_DIR/);
  });

  it('a database locked by another process', async () => {
    const d = path.join(dir, 'locked');
    fs.mkdirSync(d);
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(path.join(d, 'events.db'))}); db.pragma('journal_mode = WAL');
         db.exec('CREATE TABLE IF NOT EXISTS held (x)'); db.exec('BEGIN EXCLUSIVE'); db.exec('INSERT INTO held VALUES (1)');
         process.stdout.write('locked\\n'); setTimeout(() => {}, 60000);`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      expectClearStartError(await start(d), /events\.db: the database is locked/);
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  });
});
