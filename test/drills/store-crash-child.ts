/**
 * The process the crash drill kills: appends UsageRecorded events in a loop (several appends in flight, so group
 * commit batches them) while a per-user-totals projection follows the log, and prints `ack <id>` for every event
 * whose append resolved. Usage: node -r ts-node/register/transpile-only test/drills/store-crash-child.ts <dataDir> <round>
 */
import * as path from 'path';
import { randomUUID } from 'crypto';
import { SqliteEventStore } from '../../libs/event-store/sqlite/sqlite-event-store';
import { SqliteReadStore } from '../../libs/read-store/sqlite/sqlite-read-store';
import { ProjectionRunner } from '../../libs/projections';
import { userTotalsProjection } from '../contracts/user-totals.projection';

async function main(): Promise<void> {
  const [dir, round] = process.argv.slice(2);
  const events = new SqliteEventStore({ file: path.join(dir, 'events.db'), sync: 'full', pollIntervalMs: 10 });
  const reads = new SqliteReadStore({ file: path.join(dir, 'read-models.db') });
  const runner = new ProjectionRunner(events, reads, [userTotalsProjection('user_totals', 'user_totals')], { batchSize: 50 });
  await runner.start();
  process.stdout.write('ready\n');
  let n = 0;
  const writer = async (w: number) => {
    for (;;) {
      const size = 1 + (n % 3);
      const batch = Array.from({ length: size }, () => ({
        id: randomUUID(),
        type: 'UsageRecorded',
        data: { user_id: `user-${n++ % 7}`, tokens: 1 + (n % 100) },
        metadata: { occurredAt: '2025-03-10T12:00:00.000Z', correlationId: `round-${round}` },
      }));
      await events.append(`usage-r${round}-w${w}`, batch);
      // One write per acknowledged append: the parent only counts complete lines.
      process.stdout.write(batch.map((e) => `ack ${e.id}\n`).join(''));
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
