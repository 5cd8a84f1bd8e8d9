/**
 * `npm run replay` rebuilds every projection from the first event; `npm run replay -- usage-summaries` rebuilds the
 * one named. Each rebuild drops the projection's collections, resets its checkpoint and replays the log, with a
 * progress bar; the end prints events/s. It boots the application context without HTTP on the stores of DATA_DIR (or
 * EVENTSTORE_URL / MONGODB_URL). A running server keeps serving meanwhile; the same is available to the operator as
 * `POST /api/admin/projections/{name}/rebuild`.
 */
import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import * as cliProgress from 'cli-progress';
import { AppModule } from '../app.module';
import { LazyProjectionRunner, PROJECTION_RUNNER } from '../shell';

/**
 * The application context for a command-line tool: no HTTP server, no scheduled jobs (they are the server's to run),
 * and projections not following the log unless `followLog` is set.
 */
export async function openCliContext(options: { followLog?: boolean } = {}): Promise<{ app: INestApplicationContext; runner: LazyProjectionRunner }> {
  process.env.LOG_LEVEL ??= 'warn';
  // A CLI runs the projections it rebuilds on its own thread.
  process.env.TOLLGATE_PROJECTIONS = 'inline';
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false });
  stopScheduledJobs(app);
  const runner = app.get<LazyProjectionRunner>(PROJECTION_RUNNER);
  if (!options.followLog) await runner.get().stop();
  return { app, runner };
}

/** The scheduler mounts its jobs when the context boots; a CLI stops them at once (before any first tick). */
function stopScheduledJobs(app: INestApplicationContext): void {
  let registry: SchedulerRegistry;
  try {
    registry = app.get(SchedulerRegistry, { strict: false });
  } catch {
    return;
  }
  for (const job of registry.getCronJobs().values()) void job.stop();
  for (const name of registry.getIntervals()) registry.deleteInterval(name);
  for (const name of registry.getTimeouts()) registry.deleteTimeout(name);
}

/** "Tollgate cannot ..." for errors meant for a person (configuration, stores); the stack for anything else. */
export function explain(err: unknown): string {
  const e = err as Error;
  const known = ['ConfigError', 'StoreOpenError', 'EventStoreUnavailableError', 'StartupError'].includes(e?.name);
  return known ? e.message : (e?.stack ?? String(err));
}

function formatRate(events: number, ms: number): string {
  return `${Math.round(events / Math.max(ms / 1000, 0.001)).toLocaleString('en-US')} events/s`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log('usage: npm run replay [-- <projection name> ...]   (no name: every projection)');
    return 0;
  }
  let ctx: Awaited<ReturnType<typeof openCliContext>>;
  try {
    ctx = await openCliContext();
  } catch (err) {
    process.stderr.write(`Tollgate cannot replay: ${explain(err)}\n`);
    return 1;
  }
  try {
    const runner = ctx.runner.get();
    const names = argv.length ? argv : runner.names;
    const unknown = names.filter((n) => !runner.has(n));
    if (unknown.length) {
      process.stderr.write(`Unknown projection${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}. Known: ${runner.names.join(', ')}\n`);
      return 2;
    }
    const interactive = process.stdout.isTTY;
    let total = 0;
    const started = Date.now();
    for (const name of names) {
      const bar = new cliProgress.SingleBar(
        { format: `${name.padEnd(28)} {bar} {percentage}% | {events} events`, hideCursor: true, noTTYOutput: !interactive, notTTYSchedule: 2000 },
        cliProgress.Presets.shades_classic,
      );
      bar.start(1000, 0, { events: 0 });
      const result = await runner.rebuild(name, (done, position, head) => {
        const permille = head > 0n ? Number((position * 1000n) / head) : 1000;
        bar.update(Math.min(permille, 1000), { events: done.toLocaleString('en-US') });
      });
      bar.update(1000, { events: result.events.toLocaleString('en-US') });
      bar.stop();
      console.log(`  ${name}: ${result.events.toLocaleString('en-US')} events in ${(result.ms / 1000).toFixed(2)} s (${formatRate(result.events, result.ms)})`);
      total += result.events;
    }
    const ms = Date.now() - started;
    console.log(`Rebuilt ${names.length} projection${names.length === 1 ? '' : 's'}: ${total.toLocaleString('en-US')} events in ${(ms / 1000).toFixed(2)} s, ${formatRate(total, ms)}`);
    return 0;
  } catch (err) {
    process.stderr.write(`Replay failed: ${explain(err)}\n`);
    return 1;
  } finally {
    await ctx.app.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
