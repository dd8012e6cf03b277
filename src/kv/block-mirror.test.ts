import {describe, expect, it} from 'vitest';
import {KvBlockMirror} from './block-mirror.js';
import type {KvEvent, KvEventData} from './events.js';

const b = (n: number) => ({blockHash: BigInt(n), tokensHash: BigInt(1000 + n)});
const stored = (eventId: number, parent: number | undefined, blocks: number[], dpRank = 0): KvEvent => ({
  eventId,
  dpRank,
  data: {type: 'stored', ...(parent === undefined ? {} : {parentHash: BigInt(parent)}), blocks: blocks.map(b)},
});
const removed = (eventId: number, blocks: number[], dpRank = 0): KvEvent => ({eventId, dpRank, data: {type: 'removed', blockHashes: blocks.map(BigInt)}});

describe('KvBlockMirror', () => {
  it('passes one rank’s events through and snapshots parents before children', () => {
    const m = new KvBlockMirror();
    expect(m.apply(stored(0, undefined, [1, 2]))).toEqual([{type: 'stored', blocks: [b(1), b(2)]}]);
    expect(m.apply(stored(1, 2, [3]))).toEqual([{type: 'stored', parentHash: 2n, blocks: [b(3)]}]);
    expect(m.apply(removed(2, [3, 99]))).toEqual([{type: 'removed', blockHashes: [3n]}]);
    expect(m.snapshot()).toEqual([
      {type: 'stored', blocks: [b(1)]},
      {type: 'stored', parentHash: 1n, blocks: [b(2)]},
    ]);
  });

  it('a block is cached while any rank holds it: stored once, removed with the last rank', () => {
    const m = new KvBlockMirror();
    m.apply(stored(0, undefined, [1, 2], 0));
    // Rank 1 stores 1 (known), 2 (known) and 3 (new): only 3 is news, under 2.
    expect(m.apply(stored(0, undefined, [1, 2, 3], 1))).toEqual([{type: 'stored', parentHash: 2n, blocks: [b(3)]}]);
    expect(m.apply(removed(1, [2], 0))).toEqual([]);
    expect(m.apply(removed(1, [2], 1))).toEqual([{type: 'removed', blockHashes: [2n]}]);
  });

  it('splits new blocks around known ones into runs under their own parents', () => {
    const m = new KvBlockMirror();
    m.apply(stored(0, undefined, [2], 1));
    expect(m.apply(stored(0, undefined, [1, 2, 3]))).toEqual([
      {type: 'stored', blocks: [b(1)]},
      {type: 'stored', parentHash: 2n, blocks: [b(3)]},
    ]);
  });

  it('a rank’s clear drops its blocks; when it held them all the router is told to clear', () => {
    const m = new KvBlockMirror();
    m.apply(stored(0, undefined, [1, 2], 0));
    m.apply(stored(0, undefined, [7], 1));
    expect(m.apply({eventId: 1, dpRank: 0, data: {type: 'cleared'}})).toEqual([{type: 'removed', blockHashes: [1n, 2n]}]);
    expect(m.apply({eventId: 1, dpRank: 1, data: {type: 'cleared'}})).toEqual([{type: 'cleared'}]);
    expect(m.size).toBe(0);
  });

  it('a gap in a rank’s event ids drops what that rank held, then applies the event', () => {
    const m = new KvBlockMirror();
    m.apply(stored(0, undefined, [1]));
    const out: KvEventData[] = m.apply(stored(5, undefined, [9]));
    expect(out).toEqual([{type: 'cleared'}, {type: 'stored', blocks: [b(9)]}]);
    expect(m.gaps).toBe(1);
    expect(m.snapshot()).toEqual([{type: 'stored', blocks: [b(9)]}]);
  });

  it('leaves out of the snapshot a block whose parent is gone, and survives a parent loop', () => {
    const m = new KvBlockMirror();
    m.apply(stored(0, undefined, [1, 2, 3]));
    m.apply(removed(1, [2]));
    m.apply(stored(2, 5, [4]));
    m.apply(stored(3, 4, [5]));
    expect(m.snapshot()).toEqual([{type: 'stored', blocks: [b(1)]}]);
  });
});
