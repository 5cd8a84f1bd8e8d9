import { bucketOf, emptyHistogram, EXACT_LATENCY_SAMPLES, keepSample, LATENCY_BUCKETS_MS, latencyPercentiles, percentile } from './latency-histogram';

describe('Latency percentiles from a fixed-bucket histogram', () => {
  it('are null without calls', () => {
    expect(latencyPercentiles(emptyHistogram())).toEqual({ p50: null, p95: null, p99: null });
  });

  it('interpolate inside the bucket that holds the rank', () => {
    const h = emptyHistogram();
    for (let i = 0; i < 90; i++) h[bucketOf(80)] += 1; // (75, 100]
    for (let i = 0; i < 10; i++) h[bucketOf(900)] += 1; // (750, 1000]
    expect(percentile(h, 0.5)).toBeCloseTo(75 + 25 * (50 / 90), 1);
    expect(percentile(h, 0.95)).toBeCloseTo(750 + 250 * 0.5, 1);
    expect(percentile(h, 0.99)).toBeCloseTo(750 + 250 * 0.9, 1);
  });

  it('put latencies above the last bound in the open bucket', () => {
    const h = emptyHistogram();
    h[bucketOf(500_000)] += 1;
    expect(percentile(h, 0.99)).toBe(120000);
  });
});

describe('Latency percentiles of a user-period: exact for small samples, within one bucket above', () => {
  const fold = (latencies: number[]) => {
    const h = emptyHistogram();
    let samples: number[] | undefined;
    latencies.forEach((ms, i) => {
      h[bucketOf(ms)] += 1;
      samples = keepSample(samples, i + 1, ms);
    });
    return { h, samples, count: latencies.length, range: { min: Math.min(...latencies), max: Math.max(...latencies) } };
  };

  it('given one call of 44 ms, then p50, p95 and p99 are 44 (the histogram alone says 40 / 49 / 49.8)', () => {
    const { h, samples, count, range } = fold([44]);
    expect(latencyPercentiles(h)).toEqual({ p50: 40, p95: 49, p99: 49.8 });
    expect(latencyPercentiles(h, samples, count, range)).toEqual({ p50: 44, p95: 44, p99: 44 });
  });

  it(`given up to ${EXACT_LATENCY_SAMPLES} calls, then the percentiles are latencies that were seen, by nearest rank`, () => {
    const latencies = Array.from({ length: 20 }, (_, i) => 100 + i * 10).reverse(); // 100..290, arriving out of order
    const { h, samples, count, range } = fold(latencies);
    expect(samples).toHaveLength(20);
    expect(latencyPercentiles(h, samples, count, range)).toEqual({ p50: 190, p95: 280, p99: 290 });
  });

  it(`given more than ${EXACT_LATENCY_SAMPLES} calls, then the samples are dropped and each percentile lies in the bucket of the exact one, within what was seen`, () => {
    const latencies = Array.from({ length: 200 }, (_, i) => 20 + ((i * 37) % 400));
    const { h, samples, count, range } = fold(latencies);
    expect(samples).toBeUndefined();
    const sorted = [...latencies].sort((a, b) => a - b);
    const got = latencyPercentiles(h, samples, count, range);
    for (const [q, v] of [[0.5, got.p50], [0.95, got.p95], [0.99, got.p99]] as const) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      const b = bucketOf(exact);
      const lower = b === 0 ? 0 : LATENCY_BUCKETS_MS[b - 1];
      expect(v).toBeGreaterThanOrEqual(lower);
      expect(v).toBeLessThanOrEqual(LATENCY_BUCKETS_MS[b]);
      expect(v).toBeLessThanOrEqual(range.max);
    }
  });

  it('given a summary projected before samples were kept (a count above one, no samples), then it never starts keeping them', () => {
    expect(keepSample(undefined, 5, 10)).toBeUndefined();
  });
});
