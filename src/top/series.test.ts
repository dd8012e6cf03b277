import {describe, expect, it} from 'vitest';
import {type BucketPoint, Ring, bucketIncrease, counterIncrease, counterRate, histogramQuantile, mergeBuckets} from './series.js';

const INF = Number.POSITIVE_INFINITY;

/** Samples every `stepMs` from `startMs`, values from `f(t seconds)`. */
function series(startMs: number, stepMs: number, n: number, f: (tS: number) => number) {
  return Array.from({length: n}, (_, i) => ({at: startMs + i * stepMs, value: f((i * stepMs) / 1000)}));
}

describe('counter rate', () => {
  it('reads a steady rate exactly', () => {
    expect(counterRate(series(1_000, 1000, 11, (t) => 500 + 42 * t))).toBeCloseTo(42, 10);
  });

  it('counts a restart mid-window from 0 instead of a negative rate', () => {
    // 10/s for 5 s (50 → 100), then a restart: the first reading after it is 5 (counted since it
    // started), then 15, 25, 35, 45. Increase: 50 + 5 + 40 over 10 s.
    const pts = [...series(0, 1000, 6, (t) => 50 + 10 * t), ...series(6000, 1000, 5, (t) => 5 + 10 * t)];
    expect(counterIncrease(pts)).toBe(50 + 5 + 40);
    expect(counterRate(pts)).toBeCloseTo(95 / 10, 10);
  });

  it('has no rate with one sample or no time between samples', () => {
    expect(counterRate([{at: 5, value: 3}])).toBeUndefined();
    expect(counterRate([])).toBeUndefined();
  });
});

describe('ring trimmed to the window', () => {
  it('keeps the last sample at or before the window start, so the window is measured in full', () => {
    const r = new Ring<{at: number; value: number}>();
    for (const p of series(0, 1000, 31, (t) => t)) r.push(p);
    r.trim(30_000, 10_000);
    expect(r.points.map((p) => p.at / 1000)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(counterRate(r.points)).toBe(1);
  });

  it('keeps a sample at an uneven boundary as the base', () => {
    const r = new Ring<{at: number; value: number}>();
    for (const at of [0, 1500, 3100, 4600]) r.push({at, value: at});
    r.trim(4600, 2000);
    expect(r.points.map((p) => p.at)).toEqual([1500, 3100, 4600]);
  });

  it('replaces a reading at the same or an earlier time (a clock step back)', () => {
    const r = new Ring<{at: number; value: number}>();
    r.push({at: 1000, value: 1});
    r.push({at: 2000, value: 2});
    r.push({at: 1500, value: 3});
    expect(r.points).toEqual([
      {at: 1000, value: 1},
      {at: 1500, value: 3},
    ]);
  });

  it('restart keeps only the newest sample as the base of a fresh window', () => {
    const r = new Ring<{at: number; value: number}>();
    for (const p of series(0, 1000, 5, (t) => t)) r.push(p);
    r.restart();
    expect(r.points).toEqual([{at: 4000, value: 4}]);
  });
});

/** Cumulative buckets growing linearly: bucket i holds `rates[i]` per step. */
function linearHistogram(les: number[], perStep: number[], steps: number, stepMs: number): BucketPoint[] {
  return Array.from({length: steps + 1}, (_, s) => ({at: s * stepMs, les, counts: perStep.map((r) => r * s), sum: 0}));
}

describe("histogram_quantile, checked against Prometheus's own PromQL test cases", () => {
  // promql engine tests: testhistogram_bucket{start="positive"} loaded as 0+5x10, 0+7x10, 0+11x10, 0+12x10 every 5m.
  const pos = {les: [0.1, 0.2, 1, INF], counts: [50, 70, 110, 120]};
  const neg = {les: [-0.2, -0.1, 0.3, INF], counts: [10, 20, 20, 30]};

  it('matches on the raw buckets', () => {
    expect(histogramQuantile(0.2, pos.les, pos.counts)).toBeCloseTo(0.048, 12);
    expect(histogramQuantile(0.5, pos.les, pos.counts)).toBeCloseTo(0.15, 12);
    expect(histogramQuantile(0.8, pos.les, pos.counts)).toBeCloseTo(0.72, 12);
    expect(histogramQuantile(0, pos.les, pos.counts)).toBe(0);
    expect(histogramQuantile(1, pos.les, pos.counts)).toBe(1);
    expect(histogramQuantile(-0.1, pos.les, pos.counts)).toBe(Number.NEGATIVE_INFINITY);
    expect(histogramQuantile(1.01, pos.les, pos.counts)).toBe(INF);
  });

  it('matches when the lowest bucket is negative', () => {
    expect(histogramQuantile(0, neg.les, neg.counts)).toBe(-0.2);
    expect(histogramQuantile(0.2, neg.les, neg.counts)).toBe(-0.2);
    expect(histogramQuantile(0.5, neg.les, neg.counts)).toBeCloseTo(-0.15, 12);
    expect(histogramQuantile(0.8, neg.les, neg.counts)).toBe(0.3);
    expect(histogramQuantile(1, neg.les, neg.counts)).toBe(0.3);
  });

  it('matches histogram_quantile(q, rate(x[5m])) on the windowed bucket deltas', () => {
    const pts = linearHistogram(pos.les, [5, 7, 11, 12], 10, 300_000);
    const r = new Ring<BucketPoint>();
    for (const p of pts) r.push(p);
    r.trim(3_000_000, 300_000);
    const d = bucketIncrease(r.points)!;
    expect(d.counts).toEqual([5, 7, 11, 12]);
    expect(histogramQuantile(0.2, d.les, d.counts)).toBeCloseTo(0.048, 12);
    expect(histogramQuantile(0.5, d.les, d.counts)).toBeCloseTo(0.15, 12);
    expect(histogramQuantile(0.8, d.les, d.counts)).toBeCloseTo(0.72, 12);
  });

  it('matches sum(rate(request_duration_seconds_bucket[5m])) by (le) over four series', () => {
    const les = [0.1, 0.2, INF];
    const perSeries = [
      [10, 30, 40],
      [20, 50, 60],
      [30, 40, 60],
      [40, 70, 90],
    ];
    const deltas = perSeries.map((c) => bucketIncrease(linearHistogram(les, c, 10, 300_000).slice(-2))!);
    const m = mergeBuckets(deltas)!;
    expect(histogramQuantile(0.3, m.les, m.counts)).toBeCloseTo(0.075, 12);
    expect(histogramQuantile(0.5, m.les, m.counts)).toBeCloseTo(0.1277777777777778, 12);
    // By instance (ins1 = series 0 and 2): 0.1333333333; by job (job2 = series 2 and 3): 0.1125.
    const ins1 = mergeBuckets([deltas[0]!, deltas[2]!])!;
    expect(histogramQuantile(0.5, ins1.les, ins1.counts)).toBeCloseTo(0.1333333333, 9);
    const job2 = mergeBuckets([deltas[2]!, deltas[3]!])!;
    expect(histogramQuantile(0.5, job2.les, job2.counts)).toBeCloseTo(0.1125, 12);
    expect(histogramQuantile(0.3, job2.les, job2.counts)).toBeCloseTo(0.0642857142857143, 12);
  });

  it('has no quantile without observations or without a +Inf bucket', () => {
    expect(histogramQuantile(0.5, [0.1, INF], [0, 0])).toBeUndefined();
    expect(histogramQuantile(0.5, [0.1, 0.2], [1, 2])).toBeUndefined();
  });
});

describe('windowed histogram deltas', () => {
  const les = [0.01, 0.05, 0.1, 0.5, INF];
  const at = (s: number, counts: number[], sum: number): BucketPoint => ({at: s * 1000, les, counts, sum});

  it('puts p50 and p99 in the buckets the window observed, not the lifetime ones', () => {
    // Lifetime so far: 1000 fast observations (≤ 10 ms). In the window: 100 new ones, 60 in
    // (0.05, 0.1] and 40 in (0.1, 0.5]. p50: rank 50 of 100 → bucket (0.05, 0.1], 50/60 of the way
    // = 0.05 + 0.05 · 50/60; p99: rank 99 → (0.1, 0.5], (99 − 60)/40 of the way = 0.1 + 0.4 · 39/40.
    const pts = [at(0, [1000, 1000, 1000, 1000, 1000], 5), at(5, [1000, 1000, 1030, 1050, 1050], 10), at(10, [1000, 1000, 1060, 1100, 1100], 20)];
    const d = bucketIncrease(pts)!;
    expect(d.counts).toEqual([0, 0, 60, 100, 100]);
    expect(d.sum).toBeCloseTo(15, 12);
    expect(histogramQuantile(0.5, d.les, d.counts)).toBeCloseTo(0.05 + (0.05 * 50) / 60, 12);
    expect(histogramQuantile(0.99, d.les, d.counts)).toBeCloseTo(0.1 + (0.4 * 39) / 40, 12);
    // The lifetime buckets would say p50 ≈ 5 ms: the window is what top shows.
    expect(histogramQuantile(0.5, les, pts[2]!.counts)).toBeLessThan(0.01);
  });

  it('counts a restart mid-window from 0 in every bucket', () => {
    // 20 observations in (0.01, 0.05], restart, then 10 more in the same bucket.
    const pts = [at(0, [5, 5, 5, 5, 5], 0.02), at(5, [5, 25, 25, 25, 25], 0.8), at(6, [0, 4, 4, 4, 4], 0.1), at(10, [0, 10, 10, 10, 10], 0.3)];
    const d = bucketIncrease(pts)!;
    expect(d.counts).toEqual([0, 30, 30, 30, 30]);
    expect(histogramQuantile(0.5, d.les, d.counts)).toBeCloseTo(0.01 + 0.04 * 0.5, 12);
  });

  it('merges histograms with different bucket layouts exactly at the bounds they share', () => {
    const a = {les: [0.1, 1, INF], counts: [10, 20, 20], sum: 3};
    const b = {les: [0.1, 0.5, 1, INF], counts: [0, 5, 10, 10], sum: 6};
    const m = mergeBuckets([a, b])!;
    expect(m.les).toEqual([0.1, 0.5, 1, INF]);
    expect(m.counts).toEqual([10, 15, 30, 30]);
    expect(m.sum).toBe(9);
  });
});
