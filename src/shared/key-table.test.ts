import {describe, expect, it} from 'vitest';
import {prng} from './prng.js';
import {KeyTable} from './key-table.js';

describe('KeyTable', () => {
  it('behaves like a Map under random inserts, replacements and deletes (53-bit keys, 0 included)', () => {
    const rand = prng(3);
    const t = new KeyTable<number>(4);
    const m = new Map<number, number>();
    // A small key space forces long probe runs, wrap-around and many backward shifts.
    const keys = [0, 2 ** 53 - 1, ...Array.from({length: 300}, () => Math.floor(rand() * 2 ** 53))];
    for (let op = 0; op < 50_000; op++) {
      const k = keys[Math.floor(rand() * keys.length)]!;
      if (rand() < 0.55) {
        t.set(k, op);
        m.set(k, op);
      } else expect(t.delete(k)).toBe(m.delete(k));
      if (op % 997 === 0) {
        expect(t.size).toBe(m.size);
        for (const key of keys) expect(t.get(key)).toBe(m.get(key));
      }
    }
    expect([...t.values()].sort()).toEqual([...m.values()].sort());
  });
});
