/**
 * Named crash points of the jobs (rebuild, period close), short version (the long one: `npm run drill:crashpoints`, 20 runs at each point): a victim
 * instance armed with one crash point is SIGKILLed there on a random hit, twice per point, under report traffic; then
 * the crash drill's pass rule. Points: after an append and before its acknowledgement, after a read-model write and
 * before its checkpoint, in the middle of a projection batch, in a rebuild, in a period close.
 */
import { CRASH_POINTS, runCrashPoint } from './crash-points';

jest.setTimeout(170_000);

const RUNS = Number(process.env.CRASHPOINT_E2E_RUNS ?? 2);
const JOBS: readonly string[] = ['mid-rebuild', 'mid-period-close'];

describe('named crash points (short): rebuild and period close', () => {
  it.each(CRASH_POINTS.filter((p) => JOBS.includes(p)).map((p) => [p]))('%s: nothing acknowledged lost, nothing twice, read models equal a rebuild', async (point) => {
    const r = await runCrashPoint(point, RUNS);
    expect(r.crashed + r.notReached).toBe(RUNS);
    expect(r.lost).toBe(0);
    expect(r.doubled).toBe(0);
    expect(r.summaryMismatches).toEqual([]);
    expect(r.firstDiff).toBeNull();
    expect(r.integrity).toBe('ok/ok');
    if (r.periodResets) {
      expect(r.periodResets.duplicates).toBe(0);
      expect(r.periodResets.resets).toBe(r.periodResets.expected);
    }
  });
});
