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

  it.each([0.25, 0.5, 2, 4])('gamma, shape %s: mean gap within 3 %, CV 1/√shape within 5 %', (shape) => {
    const g = gaps(arrivalOffsets(20_000, 50, {kind: 'gamma', shape}, 42));
    expect(Math.abs(g.mean - 20) / 20).toBeLessThan(0.03);
    expect(Math.abs(g.cv - 1 / Math.sqrt(shape)) / (1 / Math.sqrt(shape))).toBeLessThan(0.05);
    expect(g.min).toBeGreaterThanOrEqual(0);
  });

  it('is repeatable for a seed and differs across seeds; refuses a rate that is not positive', () => {
    expect(arrivalOffsets(100, 10, {kind: 'poisson'}, 7)).toEqual(arrivalOffsets(100, 10, {kind: 'poisson'}, 7));
    expect(arrivalOffsets(100, 10, {kind: 'poisson'}, 7)).not.toEqual(arrivalOffsets(100, 10, {kind: 'poisson'}, 8));
    expect(() => arrivalOffsets(1, 0, {kind: 'poisson'})).toThrow(/positive/);
    expect(() => arrivalOffsets(1, 1, {kind: 'gamma', shape: 0})).toThrow(/shape/);
  });
});
