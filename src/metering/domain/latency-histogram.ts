/**
 * Latency percentiles from a fixed-bucket histogram (counts per bucket, not a list of every latency): a summary's
 * size stays constant however many calls it covers. Upper bounds in milliseconds; the last bucket is open.
 */
export const LATENCY_BUCKETS_MS = [
  1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 60000, 120000,
] as const;

/** An empty histogram: one count per bucket plus the open bucket above the last bound. */
export const emptyHistogram = (): number[] => new Array(LATENCY_BUCKETS_MS.length + 1).fill(0);

/** A histogram as stored: only the buckets that hold calls, keyed by bucket index (small documents). */
export type SparseHistogram = Record<string, number>;

export function fromSparse(h: SparseHistogram | number[] | undefined): number[] {
  if (Array.isArray(h)) return h;
  const out = emptyHistogram();
  for (const [i, n] of Object.entries(h ?? {})) out[Number(i)] = n;
  return out;
}

export function bucketOf(latencyMs: number): number {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (latencyMs <= LATENCY_BUCKETS_MS[i]) return i;
  return LATENCY_BUCKETS_MS.length;
}

/** The q-quantile (0..1), interpolated linearly inside its bucket; null when the histogram is empty. */
export function percentile(hist: number[], q: number): number | null {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    if (hist[i] === 0) continue;
    if (seen + hist[i] >= rank) {
      const lower = i === 0 ? 0 : LATENCY_BUCKETS_MS[i - 1];
      if (i === LATENCY_BUCKETS_MS.length) return lower;
      const upper = LATENCY_BUCKETS_MS[i];
      const fraction = (rank - seen) / hist[i];
      return Math.round((lower + (upper - lower) * fraction) * 100) / 100;
    }
    seen += hist[i];
  }
  return LATENCY_BUCKETS_MS[LATENCY_BUCKETS_MS.length - 1];
}

export const latencyPercentiles = (hist: number[]) => ({ p50: percentile(hist, 0.5), p95: percentile(hist, 0.95), p99: percentile(hist, 0.99) });
