/**
 * The projection worker's entry (see ProjectorWorkerHost): the application as a context without HTTP, whose shell
 * runs every projection (config role `projector`), answering the HTTP thread's calls (status, caught up, rebuild,
 * stop) and mirroring its clock.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { getPriority, setPriority } from 'os';
import { parentPort, workerData } from 'worker_threads';
import type { Clock } from '../../libs/clock';
import { READ_STORE, ReadStore } from '../../libs/read-store/port';
import { AppModule } from '../app.module';
import { LazyProjectionRunner, PROJECTION_RUNNER, useContextClock } from './infrastructure.module';
import { createLogger, PinoNestLogger } from './logger';
import type { FromWorker, ToWorker } from './projector-worker-host';

/** The HTTP thread's clock: real time plus its offset, or (a test's fake clock) the time it stands at. */
class MirroredClock implements Clock {
  constructor(
    public offset: number,
    public frozen: boolean,
  ) {}
  now(): Date {
    return new Date(this.frozen ? this.offset : Date.now() + this.offset);
  }
}

const port = parentPort!;
// This thread's priority (Linux: nice is per thread) below the HTTP thread's and the writer's: a batch is a burst of
// CPU (the events of TOLLGATE_PROJECTION_PAUSE_MS at once), and calls waiting on the HTTP thread come first. Measured
// on bench:gateway (20 ms upstream, 16 then 64 connections): p99 +10.5 to +16.8 ms at 64 connections became +7.1 to
// +8.4; bench:ingest kept its read models within 1 s of the last batch. Lowering one's own priority needs no privilege.
try {
  setPriority(0, Math.min(19, getPriority(0) + 10));
} catch {
  /* not on this platform */
}
const post = (m: FromWorker) => port.postMessage(m);
const failure = (err: unknown) => ({ name: (err as Error)?.name ?? 'Error', message: (err as Error)?.message ?? String(err) });

async function main(): Promise<void> {
  const clock = new MirroredClock(Number(workerData?.offset ?? 0), !!workerData?.frozen);
  useContextClock(clock);
  const level = process.env.LOG_LEVEL?.trim() || 'info';
  // Nest's own start-up lines are the server's to print; the worker reports warnings and errors.
  const app = await NestFactory.createApplicationContext(AppModule, { logger: new PinoNestLogger(createLogger(level === 'silent' ? level : 'warn')), abortOnError: false });
  const runner = app.get<LazyProjectionRunner>(PROJECTION_RUNNER).get();
  const reads = app.get<ReadStore>(READ_STORE);
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'clock') {
      clock.offset = m.offset;
      clock.frozen = m.frozen;
      return;
    }
    if (m.kind === 'upsert') {
      // Best effort, like the write it stands for (a key's last use).
      reads.collection(m.collection).upsert(m.id, m.update).catch(() => undefined);
      return;
    }
    const reply = (p: Promise<unknown>) =>
      p.then(
        (value) => post({ kind: 'reply', id: m.id, ok: true, value }),
        (err) => post({ kind: 'reply', id: m.id, ok: false, error: failure(err) }),
      );
    switch (m.method) {
      case 'status':
        return void reply(runner.status());
      case 'caughtUp':
        return void reply(runner.caughtUp(m.args[0] as number | undefined));
      case 'rebuild':
        return void reply(runner.rebuild(m.args[0] as string, (done, position, head) => post({ kind: 'progress', id: m.id, done, position, head })));
      case 'stop':
        return void reply(app.close());
    }
  });
  post({ kind: 'ready', names: runner.names });
}

main().catch((err) => post({ kind: 'failed', error: failure(err) }));

