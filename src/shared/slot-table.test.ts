import {describe, expect, it} from 'vitest';
import {prng} from './prng.js';
import {SlotTable} from './slot-table.js';

describe('SlotTable', () => {
  it('holds the capacity it was made for without growing, then grows as keys come', () => {
    const t = new SlotTable(1000);
    expect(t.capacity).toBeGreaterThanOrEqual(1000);
    const made = t.capacity;
    for (let k = 0; k < made; k++) t.set(k * 7_919, k);
    expect(t.capacity).toBe(made);
    t.set(-1, 0);
    expect(t.capacity).toBe(2 * made);
    expect(t.get(5 * 7_919)).toBe(5);
  });

  it('agrees with a Map through inserts, replacements, deletes and growth', () => {
    const random = prng(7);
    const t = new SlotTable(4);
    const m = new Map<number, number>();
    for (let step = 0; step < 20_000; step++) {
      // Keys up to 2^53 − 1 and a few negative ones, from a small pool so that deletes and replacements hit.
      const key = random() < 0.05 ? -1 - Math.floor(random() * 20) : Math.floor(random() * 3000) * 3_002_399_751_581 + (step % 3);
      if (random() < 0.4) expect(t.delete(key)).toBe(m.delete(key));
      else if (random() < 0.3) {
        expect(t.getOrSet(key, step)).toBe(m.get(key) ?? -1);
        if (!m.has(key)) m.set(key, step);
      }
      else {
        t.set(key, step);
        m.set(key, step);
      }
    }
    expect(t.size).toBe(m.size);
    for (const [k, v] of m) expect(t.get(k)).toBe(v);
    expect(t.get(-1000)).toBe(-1);
    expect([...t.values()].sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
  });
});
