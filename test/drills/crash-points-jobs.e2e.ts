/**
 * Named crash points of the jobs (rebuild, period close), short version (the long one: `npm run drill:crashpoints`, 20 runs at each point): a victim
 * instance armed with one crash point is SIGKILLed there on a random hit, twice per point, under report traffic; then
 * the crash drill's pass rule. Points: after an append and before its acknowledgement, after a read-model write and
 * before its checkpoint, in the middle of a projection batch, in a rebuild, in a period close.
 */
import { CRASH_POINTS, CrashPointName, runCrashPoint } from './crash-points';

jest.setTimeout(170_000);

const RUNS = Number(process.env.CRASHPOINT_E2E_RUNS ?? 2);
const JOBS: readonly CrashPointName[] = ['mid-rebuild', 'mid-period-close'];

describe('named crash points (short): rebuild and period close', () => {
  it.each(CRASH_POINTS.filter((p) => JOBS.includes(p)).map((p) => [p]))('%s: nothing acknowledged lost, nothing twice, read models equal a rebuild', async (point) => {
    // Few hits pass before the kill, and a run waits long enough, so that every run is killed by the point itself.
    const r = await runCrashPoint(point, RUNS, { maxSkip: 3, waitMs: 20_000 });
    expect(r).toMatchObject({ point, runs: RUNS, crashed: RUNS, notReached: 0 });
    expect(r.lost).toBe(0);
    expect(r.doubled).toBe(0);
    expect(r.summaryMismatches).toEqual([]);
    expect(r.firstDiff).toBeNull();
    expect(r.integrity).toBe('ok/ok');
    // A period close is checked for one close per subscription and period; a rebuild closes none.
    const periodResets = point === 'mid-period-close' ? { subscriptions: 12, duplicates: 0, resets: r.periodResets?.expected } : null;
    expect(r.periodResets).toEqual(periodResets === null ? null : expect.objectContaining(periodResets));
  });
});
