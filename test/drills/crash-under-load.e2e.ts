/**
 * Crash under load, short version (the long one: `npm run drill:crash`, 24 kills): two instances on one data dir take
 * gateway and report traffic from retrying clients while one is SIGKILLed at random moments and restarted. The pass
 * rule: the store opens every time, no acknowledged report lost, nothing recorded or counted twice, summaries equal
 * the log, read models equal a rebuild.
 */
import { runCrashDrill } from './crash-under-load';

jest.setTimeout(170_000);

describe('crash under load (short)', () => {
  it('keeps every acknowledged usage exactly once through 3 SIGKILLs', async () => {
    const r = await runCrashDrill({ kills: 3, clients: 4, minGapMs: 300, maxGapMs: 1200 });
    expect(r.kills).toBe(3);
    expect(r.reportAcked).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.doubled).toBe(0);
    expect(r.summaryMismatches).toEqual([]);
    expect(r.rebuild.diffs).toEqual([]);
    expect(r.integrity).toEqual({ events: 'ok', readModels: 'ok' });
  });
});
