/**
 * Crash under load with the log on EventStoreDB (short): the same drill as crash-under-load.e2e.ts, with
 * EVENTSTORE_URL pointing at the protocol fake in its own process (a test double of the server, not a store) and the
 * read models on SQLite. Two instances are SIGKILLed and restarted twice while the fake itself restarts once (every
 * connection and subscription drops). Lighter load than the SQLite version: an instance's start reads the log's
 * first pages (the plan and price loaders) through the fake, whose cost grows with the log. The pass rule is the same: no acknowledged report lost, nothing recorded or
 * counted twice, summaries equal the log, read models equal a rebuild.
 */
import { runCrashDrill } from './crash-under-load';

jest.setTimeout(900_000);

// Not in the default `npm test` yet: on the shared 2-core machine (load average 8-10) an instance's restart against
// the fake took 36-84 s (about 10 s on SQLite) and the drill about 4 minutes. DRILL_ESDB=1 runs it. One run: 8,280
// acknowledged report ids, 0 lost, 0 doubled; 2,212 gateway calls answered, 2,194 recorded (gap 18); 0 summary
// mismatches, 0 read-model differences after a rebuild.
const run = process.env.DRILL_ESDB === '1' ? describe : describe.skip;
if (process.env.DRILL_ESDB !== '1') console.log('crash under load on EventStoreDB: skipped (DRILL_ESDB=1 runs it, about 5 minutes)');

run('crash under load on EventStoreDB (protocol fake, short)', () => {
  it('keeps every acknowledged usage exactly once through 2 SIGKILLs and a server restart', async () => {
    const r = await runCrashDrill({ kills: 2, clients: 2, minGapMs: 300, maxGapMs: 800, eventStoreFake: { restarts: 1 } });
    expect(r.kills).toBe(2);
    expect(r.reportAcked).toBeGreaterThan(0);
    expect(r.recordedGateway).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.doubled).toBe(0);
    expect(r.summaryMismatches).toEqual([]);
    expect(r.rebuild.diffs).toEqual([]);
    expect(r.integrity.readModels).toBe('ok');
  });
});
