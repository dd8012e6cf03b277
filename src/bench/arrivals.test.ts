import {describe, expect, it} from 'vitest';
import {arrivalOffsets} from './arrivals.js';

/** Mean and coefficient of variation of the gaps. */
function gaps(offsets: number[]) {
  const g = offsets.slice(1).map((t, i) => t - offsets[i]!);
  const mean = g.reduce((a, b) => a + b, 0) / g.length;
  const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length);
  return {mean, cv: sd / mean, min: Math.min(...g)};
}

describe('arrival offsets (seed 42, 20,000 requests at 50 req/s: mean gap 20 ms)', () => {
  it('constant: exactly every 20 ms', () => {
    const o = arrivalOffsets(5, 50, {kind: 'constant'});
    expect(o).toEqual([0, 20, 40, 60, 80]);
  });

  it('poisson: mean gap within 2 %, dispersion (CV) of an exponential, 1 ± 0.03', () => {
    const g = gaps(arrivalOffsets(20_000, 50, {kind: 'poisson'}, 42));
    expect(Math.abs(g.mean - 20) / 20).toBeLessThan(0.02);
    expect(Math.abs(g.cv - 1)).toBeLessThan(0.03);
  });

  // Deciles (10 %, 50 %, 90 %) of Gamma(shape, scale 20/shape) in ms, from scipy.stats.gamma.ppf.
  const GAMMA_DECILES: Record<number, [number, number, number]> = {
    0.25: [0.00540005, 3.4939, 60.0314],
    0.5: [0.315815, 9.09873, 54.1109],
    2: [5.31812, 16.7835, 38.8972],
    4: [8.72385, 18.3603, 33.4039],
  };

  it.each([0.25, 0.5, 2, 4])('gamma, shape %s: mean gap within 3 %, CV 1/√shape within 5 %, deciles of Gamma(shape) within 1.5 points', (shape) => {
    const offsets = arrivalOffsets(20_000, 50, {kind: 'gamma', shape}, 42);
    const g = gaps(offsets);
    expect(Math.abs(g.mean - 20) / 20).toBeLessThan(0.03);
    expect(Math.abs(g.cv - 1 / Math.sqrt(shape)) / (1 / Math.sqrt(shape))).toBeLessThan(0.05);
    // The shape of the distribution, not only its first two moments: the share of gaps under each
    // theoretical decile is that decile.
    const all = offsets.slice(1).map((t, i) => t - offsets[i]!);
    GAMMA_DECILES[shape]!.forEach((q, i) => {
      const share = all.filter((x) => x < q).length / all.length;
      expect(Math.abs(share - [0.1, 0.5, 0.9][i]!)).toBeLessThan(0.015);
    });
    // Shape ≥ 1 has no mass near 0: no two requests arrive together. (Below 1 the density is
    // unbounded at 0, and a few gaps fall under the resolution of a double at these offsets.)
    if (shape >= 1) expect(g.min).toBeGreaterThan(0);
  });

  it('is repeatable for a seed and differs across seeds; refuses a rate that is not positive', () => {
    expect(arrivalOffsets(100, 10, {kind: 'poisson'}, 7)).toEqual(arrivalOffsets(100, 10, {kind: 'poisson'}, 7));
    expect(arrivalOffsets(100, 10, {kind: 'poisson'}, 7)).not.toEqual(arrivalOffsets(100, 10, {kind: 'poisson'}, 8));
    expect(() => arrivalOffsets(1, 0, {kind: 'poisson'})).toThrow(/positive/);
    expect(() => arrivalOffsets(1, 1, {kind: 'gamma', shape: 0})).toThrow(/shape/);
  });
});
