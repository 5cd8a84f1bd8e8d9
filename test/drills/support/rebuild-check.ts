/**
 * "Every read model equals a full rebuild": on a stopped fleet's data dir, start one fresh instance, let it catch up,
 * snapshot every read model document, rebuild every projection from the first event
 * (`POST /api/admin/projections/all/rebuild`), snapshot again, and diff the two.
 */
import { Cluster, ClusterOptions } from '../../support/cluster';
import { diffSnapshots, readModelSnapshot, SnapshotDiff, snapshotSizes } from './stores';
import { expectOk, waitCaughtUp } from './workload';

export interface RebuildComparison {
  diffs: SnapshotDiff[];
  sizes: Record<string, number>;
  rebuilt: Array<{ name: string; events: number; ms: number }>;
}

export async function compareWithRebuild(dataDir: string, options: ClusterOptions = {}, ignoreFields: readonly string[] = []): Promise<RebuildComparison> {
  const fresh = Cluster.create({ ...options, dataDir, instances: 1, env: { ...options.env, TOLLGATE_TEST_FAULTS: undefined } });
  try {
    await fresh.addInstances(1);
    await waitCaughtUp(fresh);
    const before = readModelSnapshot(dataDir, ignoreFields);
    const r = await fresh.instances[0].request('POST', '/api/admin/projections/all/rebuild', { key: fresh.adminKey, timeoutMs: 900_000 });
    expectOk(r, 'rebuild all');
    await waitCaughtUp(fresh);
    const after = readModelSnapshot(dataDir, ignoreFields);
    return { diffs: diffSnapshots(before, after), sizes: snapshotSizes(after), rebuilt: r.body.rebuilt ?? [] };
  } finally {
    await fresh.stop();
  }
}

/** A short description of the first differences, for an assertion message. */
export function describeDiffs(diffs: SnapshotDiff[], max = 5): string {
  return diffs
    .slice(0, max)
    .map((d) => `${d.collection}/${d.id}: ${d.kind}\n  before: ${d.before ?? '-'}\n  after:  ${d.after ?? '-'}`)
    .join('\n');
}
