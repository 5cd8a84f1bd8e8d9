import { bucketOf, emptyHistogram, latencyPercentiles, percentile } from './latency-histogram';

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
