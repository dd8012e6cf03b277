import {describe, expect, it} from 'vitest';
import {sparkline} from './sparkline.js';

describe('sparkline', () => {
  it('draws one block per value from the floor to the largest value', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8)).toBe('▁▂▃▄▅▆▇█');
  });

  it('leaves a gap where the source was down (NaN, or null after JSON)', () => {
    expect(sparkline([7, Number.NaN, null, 7], 4)).toBe('█  █');
  });

  it('keeps the newest value in the last column: pads short histories, cuts long ones', () => {
    expect(sparkline([7], 3)).toBe('  █');
    expect(sparkline([0, 7, 0, 7], 2)).toBe('▁█');
  });

  it('scales to a fixed maximum when given (KV usage 0–1) and stays at the floor for all zeros', () => {
    expect(sparkline([0.5, 1, 2], 3, 1)).toBe('▅██');
    expect(sparkline([0, 0], 2)).toBe('▁▁');
  });
});
