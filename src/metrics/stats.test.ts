import {describe, expect, it} from 'vitest';
import {quantileSorted, summarize} from './stats.js';

describe('summarize', () => {
  it('matches numpy: linear interpolation, population std', () => {
    // numpy.percentile([1,2,3,4,10], [50,90,95,99]) = 3, 7.6, 8.8, 9.76; std = 3.1623
    const s = summarize([10, 1, 4, 2, 3]);
    expect(s).toMatchObject({count: 5, mean: 4, min: 1, max: 10, p50: 3});
    expect(s.p90).toBeCloseTo(7.6, 10);
    expect(s.p95).toBeCloseTo(8.8, 10);
    expect(s.p99).toBeCloseTo(9.76, 10);
    expect(s.std).toBeCloseTo(Math.sqrt(10), 10);
  });

  it('handles one value and no values', () => {
    expect(summarize([7])).toMatchObject({count: 1, mean: 7, p50: 7, p99: 7, std: 0});
    expect(summarize([]).count).toBe(0);
    expect(Number.isNaN(quantileSorted([], 0.5))).toBe(true);
  });
});
