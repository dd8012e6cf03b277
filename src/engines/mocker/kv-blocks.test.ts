import {beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../../kv/block-hasher.js';
import {DynamoBlockHasher} from '../../kv/dynamo-hash.js';
import {type KvEventData, eventObjects} from '../../kv/events.js';
import {type BlockList, pickBlocks, sliceBlocks} from '../../kv/block-list.js';
import {KvBlockManager, type SequenceBlocks, blocksOf} from './kv-blocks.js';

const seq = (): SequenceBlocks => ({held: [], partial: 0});
const tokens = (n: number, offset = 0) => Array.from({length: n}, (_, i) => i + offset);
let hasher: BlockHasher;
beforeAll(async () => {
  hasher = await DynamoBlockHasher.create(4);
});
const blocks = (t: number[]) => blocksOf(hasher, t);
const stored = (bs: BlockList, parent?: bigint): KvEventData => ({
  type: 'stored',
  ...(parent === undefined ? {} : {parentHash: parent}),
  blocks: Array.from(bs.keys, (_, i) => ({blockHash: bs.sequence[i]!, tokensHash: bs.local[i]!})),
});

describe('KvBlockManager', () => {
  it('shares cached prefix blocks and counts them as hits', () => {
    const m = new KvBlockManager(100, 4);
    expect(m.allocate(seq(), blocks(tokens(10)), 10)).toBe(0);
    expect(m.activeBlocks).toBe(3); // 2 full + 1 private partial
    expect(m.allocate(seq(), blocks(tokens(9)), 9)).toBe(2);
    expect(m.activeBlocks).toBe(4); // shared 2 + two private partials
  });

  it('frees every block once all sequences finish (free = total)', () => {
    const m = new KvBlockManager(50, 4);
    const seqs = [seq(), seq(), seq()];
    m.allocate(seqs[0]!, blocks(tokens(20)), 22);
    m.allocate(seqs[1]!, blocks(tokens(12)), 12);
    m.allocate(seqs[2]!, blocks(tokens(16, 100)), 17);
    expect(m.reserveSlot(seqs[1]!, 12)).toBe(true);
    for (const s of seqs) m.free(s);
    expect(m.activeBlocks).toBe(0);
    expect(m.freeBlocks + m.inactiveBlocks).toBe(50);
  });

  it('evicts the least recently released blocks first, deepest suffix before its prefix', () => {
    const events: KvEventData[] = [];
    const m = new KvBlockManager(6, 4, eventObjects((e) => events.push(e)));
    const a = seq();
    const ha = blocks(tokens(12)); // 3 blocks
    m.allocate(a, ha, 12);
    m.free(a);
    expect(m.evictionOrder()).toEqual([ha.sequence[2], ha.sequence[1], ha.sequence[0]]);
    const hb = blocks(tokens(16, 1000)); // 4 new blocks: 3 free, so 1 eviction
    m.allocate(seq(), hb, 16);
    expect(events.at(-2)).toEqual({type: 'removed', blockHashes: [ha.sequence[2]]});
    expect(m.cachedPrefix(ha)).toBe(2); // the shared prefix survived
  });

  it('refuses an allocation that cannot fit, taking nothing', () => {
    const m = new KvBlockManager(3, 4);
    expect(m.allocate(seq(), blocks(tokens(16)), 16)).toBe(-1);
    expect(m.freeBlocks).toBe(3);
  });

  it('reviving a cached prefix does not evict it to make room for its own suffix', () => {
    const m = new KvBlockManager(4, 4);
    const a = seq();
    const h = blocks(tokens(16));
    m.allocate(a, sliceBlocks(h, 0, 2), 8);
    m.free(a);
    expect(m.allocate(seq(), h, 16)).toBe(2);
    expect(m.activeBlocks).toBe(4);
  });

  it('shares a cached block after a gap instead of allocating it twice', () => {
    const events: KvEventData[] = [];
    const m = new KvBlockManager(10, 4, eventObjects((e) => events.push(e)));
    const h = blocks(tokens(12));
    m.allocate(seq(), pickBlocks(h, [0]), 4);
    m.allocate(seq(), pickBlocks(h, [2]), 4); // cached without its parent
    expect(m.allocate(seq(), h, 12)).toBe(1);
    expect(m.activeBlocks).toBe(3);
    expect(events.at(-1)).toEqual(stored(pickBlocks(h, [1]), h.sequence[0]));
  });

  it('publishes stored blocks with Dynamo hashes and their parent, and promotes filled private blocks', () => {
    const events: KvEventData[] = [];
    const m = new KvBlockManager(10, 2, eventObjects((e) => events.push(e)));
    const h = blocksOf(hasherOf2, tokens(5));
    const a = seq();
    m.allocate(a, h, 5);
    expect(events[0]).toEqual(stored(h));
    const full = blocksOf(hasherOf2, [...tokens(5), 99]);
    m.promote(a, {local: full.local[2]!, sequence: full.sequence[2]!});
    expect(events[1]).toEqual(stored(pickBlocks(full, [2]), h.sequence[1]));
    expect(a.held.map((s) => m.sequenceHash(s))).toEqual(Array.from(full.sequence));
    expect(m.lastSequenceHash(a)).toBe(full.sequence[2]);
  });

  it('snapshots every reachable cached block, parents first', () => {
    const m = new KvBlockManager(20, 4);
    const a = seq();
    m.allocate(a, blocks(tokens(12)), 12);
    m.allocate(seq(), blocks([...tokens(8), 7, 7, 7, 7]), 12);
    const snap = m.snapshot();
    expect(snap).toHaveLength(4);
    const seen = new Set<bigint>();
    for (const e of snap) {
      if (e.type !== 'stored') throw new Error('stored only');
      if (e.parentHash !== undefined) expect(seen.has(e.parentHash)).toBe(true);
      for (const b of e.blocks) seen.add(b.blockHash);
    }
  });
});

let hasherOf2: BlockHasher;
beforeAll(async () => {
  hasherOf2 = await DynamoBlockHasher.create(2);
});

describe('KvBlockManager slots (where a block lives in the worker\'s KV memory)', () => {
  it('gives each cached block its own slot, and an evicted block\'s slot to the next one', () => {
    const m = new KvBlockManager(4, 4);
    const a = seq();
    const first = blocks(tokens(12));
    m.allocate(a, first, 12);
    const slots = [0, 1, 2].map((i) => m.slotOf(first, i));
    expect(new Set(slots)).toEqual(new Set([0, 1, 2]));
    m.free(a);
    // Three new blocks: the free slot 3, then the slots of the two blocks evicted (the tail first).
    const next = blocks(tokens(12, 100));
    m.allocate(seq(), next, 12);
    expect([0, 1, 2].map((i) => m.slotOf(first, i))).toEqual([0, undefined, undefined]);
    expect(new Set([0, 1, 2].map((i) => m.slotOf(next, i)))).toEqual(new Set([1, 2, 3]));
  });

  it('discards unused blocks whose bytes went wrong, as evictions, and leaves used ones', () => {
    const events: KvEventData[] = [];
    const m = new KvBlockManager(8, 4, eventObjects((e) => events.push(e)));
    const a = seq();
    const b = seq();
    const bs = blocks(tokens(8));
    m.allocate(a, bs, 8);
    m.allocate(b, bs, 4, 1);
    m.free(a);
    events.length = 0;
    m.discard(bs, [0, 1]);
    expect(m.slotOf(bs, 0)).toBeDefined(); // b still uses it
    expect(m.slotOf(bs, 1)).toBeUndefined();
    expect(events).toEqual([{type: 'removed', blockHashes: [bs.sequence[1]]}]);
    m.free(b);
    expect(m.freeBlocks + m.inactiveBlocks).toBe(8);
  });
});
