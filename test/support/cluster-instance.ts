/**
 * The entry of a fleet instance whose clock the drill controls (test/support/cluster.ts with `clockFile`): the same
 * application as src/main.ts, with a clock that reads the fleet's offset (ms, a number in the file named by
 * TOLLGATE_DRILL_CLOCK_FILE) every 50 ms. The drills move every instance's time at once to reach a period's end.
 */
import 'reflect-metadata';
import * as fs from 'fs';
import { buildApp } from '../../src/app.factory';
import { APP_CONFIG, AppConfig } from '../../src/config/config';
import type { Clock } from '../../libs/clock';

class FileOffsetClock implements Clock {
  private offset = 0;
  constructor(private readonly file: string) {
    this.read();
    setInterval(() => this.read(), 50).unref();
  }
  private read(): void {
    try {
      const v = Number(fs.readFileSync(this.file, 'utf8').trim());
      if (Number.isFinite(v)) this.offset = v;
    } catch {
      /* keep the last offset */
    }
  }
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
}

async function main(): Promise<void> {
  const file = process.env.TOLLGATE_DRILL_CLOCK_FILE;
  if (!file) throw new Error('TOLLGATE_DRILL_CLOCK_FILE is not set');
  const app = await buildApp({ env: process.env, clock: new FileOffsetClock(file) });
  const config = app.get<AppConfig>(APP_CONFIG);
  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`Tollgate cannot start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
