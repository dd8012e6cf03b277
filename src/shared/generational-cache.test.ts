import {describe, expect, it} from 'vitest';
import {GenerationalCache} from './generational-cache.js';

describe('GenerationalCache', () => {
  it('keeps what is used and forgets what is not, within its weight bound', () => {
    const c = new GenerationalCache<string, number[]>(20, (v) => v.length);
    const value = (n: number) => Array.from({length: n}, (_, i) => i);
    for (let i = 0; i < 100; i++) {
      c.set(`k${i}`, value(3));
      expect(c.get('kept')).toEqual(i ? value(2) : undefined);
      if (!i) c.set('kept', value(2));
      // Two generations of under half the bound each, plus the entry that tipped one over.
      expect(c.size).toBeLessThanOrEqual(Math.ceil(10 / 3) * 2 + 2);
    }
    expect(c.get('k0')).toBeUndefined();
    expect(c.get('k99')).toEqual(value(3));
  });

  it('a value set again replaces the one before, in either generation', () => {
    const c = new GenerationalCache<string, string>(20, (v) => v.length);
    c.set('a', 'one');
    c.set('b', 'xxxxxxxx'); // the young generation reaches 11, half the bound: it becomes the old one
    c.set('a', 'two');
    expect(c.get('a')).toBe('two');
    c.set('a', 'three');
    expect(c.get('a')).toBe('three');
    expect(c.get('b')).toBe('xxxxxxxx');
  });
});
