/**
 * Latency percentiles from a fixed-bucket histogram (counts per bucket, not a list of every latency): a summary's
 * size stays constant however many calls it covers. Upper bounds in milliseconds; the last bucket is open.
 * Below EXACT_LATENCY_SAMPLES calls the latencies themselves are kept too, and the percentiles are exact (one call of
 * 44 ms has p50 = p95 = p99 = 44, where the histogram would say 40 / 49 / 49.8); above it they are interpolated in the
 * bucket that holds the rank, so they are off by less than that bucket's width, and never outside the latencies seen.
 */
export const LATENCY_BUCKETS_MS = [
  1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 20000, 30000, 60000, 120000,
] as const;

/** Latencies kept per user, period and provider, for exact percentiles of small samples. */
export const EXACT_LATENCY_SAMPLES = 32;

/**
 * The kept latencies after one more call (sorted, in place), `count` being the calls counted with it: undefined once
 * the calls outnumber EXACT_LATENCY_SAMPLES (from then on the histogram answers).
 */
export function keepSample(samples: number[] | undefined, count: number, latencyMs: number): number[] | undefined {
  if (count > EXACT_LATENCY_SAMPLES || (count > 1 && !samples)) return undefined;
  const out = samples ?? [];
  let i = out.length;
  while (i > 0 && out[i - 1] > latencyMs) i--;
  out.splice(i, 0, latencyMs);
  return out;
}

/** The q-quantile of sorted latencies by nearest rank (a latency that was seen); null when there are none. */
export function exactPercentile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
}

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

/**
 * p50 / p95 / p99: exact from the kept latencies when they are all of them (`samples.length === count`), else from
 * the histogram, clamped to the smallest and largest latency seen when those are known.
 */
export function latencyPercentiles(hist: number[], samples?: readonly number[], count?: number, range?: { min?: number; max?: number }) {
  if (samples && samples.length > 0 && samples.length === count) return { p50: exactPercentile(samples, 0.5), p95: exactPercentile(samples, 0.95), p99: exactPercentile(samples, 0.99) };
  const clamp = (v: number | null) => (v === null ? null : Math.min(range?.max ?? Infinity, Math.max(range?.min ?? -Infinity, v)));
  return { p50: clamp(percentile(hist, 0.5)), p95: clamp(percentile(hist, 0.95)), p99: clamp(percentile(hist, 0.99)) };
}
