import {describe, expect, it} from 'vitest';
import {notBusy} from './policy.js';
import {RandomPolicy} from './random.js';
import {RoundRobinPolicy} from './round-robin.js';

const ws = (n: number) => Array.from({length: n}, (_, i) => ({id: `w${i}`, inFlight: i, kvUsage: i / 10}));

describe('routing policies', () => {
  it('round-robin cycles through workers', () => {
    const p = new RoundRobinPolicy();
    expect(Array.from({length: 5}, () => p.select(ws(3))!.id)).toEqual(['w0', 'w1', 'w2', 'w0', 'w1']);
    expect(p.select([])).toBeUndefined();
  });

  it('random picks by the injected randomness', () => {
    const seq = [0.1, 0.5, 0.99];
    const p = new RandomPolicy(() => seq.shift()!);
    expect([p.select(ws(3))!.id, p.select(ws(3))!.id, p.select(ws(3))!.id]).toEqual(['w0', 'w1', 'w2']);
  });

  it('skips busy workers by in-flight count and KV usage', () => {
    expect(notBusy(ws(4), {maxInflight: 2, maxKvUsage: 1}).map((w) => w.id)).toEqual(['w0', 'w1']);
    expect(notBusy(ws(4), {maxInflight: 0, maxKvUsage: 0.15}).map((w) => w.id)).toEqual(['w0', 'w1']);
    expect(notBusy(ws(4), {maxInflight: 0, maxKvUsage: 1})).toHaveLength(4);
  });
});
