import {describe, expect, it} from 'vitest';
import {PrefixIndex, type StoredBlock} from './prefix-index.js';

/** Blocks with local hash = L and sequence hash = 1000 + position (per chain). */
const chain = (locals: number[], seqBase = 1000): StoredBlock[] => locals.map((local, i) => ({local, seq: seqBase + i}));

describe('PrefixIndex', () => {
  it('scores each worker by the leading request blocks it holds', () => {
    const ix = new PrefixIndex();
    ix.store('w1', undefined, chain([1, 2, 3, 4]));
    ix.store('w2', undefined, chain([1, 2]));
    ix.store('w3', undefined, chain([9]));
    const m = ix.findMatches([1, 2, 3, 5]);
    expect(Object.fromEntries(m.scores)).toEqual({w1: 3, w2: 2});
    expect(Object.fromEntries(m.treeSizes)).toEqual({w1: 4, w2: 2});
    expect(ix.findMatches([7]).scores.size).toBe(0);
  });

  it('appends stored blocks under their parent, and reports a missing parent', () => {
    const ix = new PrefixIndex();
    ix.store('w', undefined, chain([1, 2]));
    expect(ix.store('w', 1001, [{local: 3, seq: 1002}])).toBe('ok');
    expect(Object.fromEntries(ix.findMatches([1, 2, 3]).scores)).toEqual({w: 3});
    expect(ix.store('w', 4242, [{local: 9, seq: 5000}])).toBe('parent_block_not_found');
    expect(ix.treeSize('w')).toBe(3);
  });

  it('treats a duplicate stored event as a no-op', () => {
    const ix = new PrefixIndex();
    ix.store('w', undefined, chain([1, 2]));
    ix.store('w', undefined, chain([1, 2]));
    expect(ix.treeSize('w')).toBe(2);
    expect(Object.fromEntries(ix.findMatches([1, 2]).scores)).toEqual({w: 2});
  });

  it('removes blocks, pruning nodes nobody holds', () => {
    const ix = new PrefixIndex();
    ix.store('w1', undefined, chain([1, 2, 3]));
    ix.store('w2', undefined, chain([1, 2], 2000));
    expect(ix.remove('w1', [1002])).toBe('ok');
    expect(Object.fromEntries(ix.findMatches([1, 2, 3]).scores)).toEqual({w1: 2, w2: 2});
    expect(ix.remove('w1', [4242])).toBe('block_not_found');
    expect(ix.remove('nobody', [1])).toBe('block_not_found');
  });

  it('forgets a worker that cleared its cache or left, keeping the others', () => {
    const ix = new PrefixIndex();
    ix.store('w1', undefined, chain([1, 2, 3]));
    ix.store('w2', undefined, chain([1, 2], 2000));
    ix.clear('w1');
    expect(Object.fromEntries(ix.findMatches([1, 2, 3]).scores)).toEqual({w2: 2});
    expect(ix.treeSize('w1')).toBe(0);
    ix.clear('w2');
    expect(ix.findMatches([1]).scores.size).toBe(0);
  });
});
