import {describe, expect, it} from 'vitest';
import {clip, fmtDuration, fmtMs, fmtNum, fmtPct, padStart} from './format.js';

describe('format', () => {
  it('shows an unknown figure as "–", never 0', () => {
    for (const v of [undefined, null, Number.NaN]) {
      expect(fmtNum(v)).toBe('–');
      expect(fmtPct(v)).toBe('–');
      expect(fmtMs(v)).toBe('–');
    }
    expect(fmtNum(0)).toBe('0');
  });

  it('keeps rates short', () => {
    expect([0.37, 13.8, 845.2, 3420, 18_400, 2_500_000].map((v) => fmtNum(v))).toEqual(['0.4', '14', '845', '3.4k', '18k', '2.5M']);
    expect(fmtNum(13.8, 100)).toBe('13.8');
  });

  it('writes latencies and durations the way people read them', () => {
    expect([4.24, 142.4, 1240].map(fmtMs)).toEqual(['4.2 ms', '142 ms', '1.24 s']);
    expect([6_000, 245_000, 3_725_000, 100_800_000].map(fmtDuration)).toEqual(['6 s', '4 m 5 s', '1 h 2 m', '1 d 4 h']);
  });

  it('cuts text to a width with an ellipsis', () => {
    expect(clip('gpu-node-12.example', 10)).toBe('gpu-node-…');
    expect(padStart('97%', 5)).toBe('  97%');
  });
});
