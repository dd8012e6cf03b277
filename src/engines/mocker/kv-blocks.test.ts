import {describe, expect, it} from 'vitest';
import {hashBlocks} from '../../router/block-hash.js';
import {type KvEvent, KvBlockManager, type SequenceBlocks} from './kv-blocks.js';

const seq = (): SequenceBlocks => ({hashes: [], partial: 0});
const tokens = (n: number, offset = 0) => Array.from({length: n}, (_, i) => i + offset);

describe('KvBlockManager', () => {
  it('shares cached prefix blocks and counts them as hits', () => {
    const m = new KvBlockManager(100, 4);
    const a = seq();
    const b = seq();
    expect(m.allocate(a, hashBlocks(tokens(10), 4), 10)).toBe(0);
    expect(m.activeBlocks).toBe(3); // 2 full + 1 private partial
    expect(m.allocate(b, hashBlocks(tokens(9), 4), 9)).toBe(2);
    expect(m.activeBlocks).toBe(4); // shared 2 + two private partials
  });

  it('frees every block once all sequences finish (free = total)', () => {
    const m = new KvBlockManager(50, 4);
    const seqs = [seq(), seq(), seq()];
    m.allocate(seqs[0]!, hashBlocks(tokens(20), 4), 22);
    m.allocate(seqs[1]!, hashBlocks(tokens(12), 4), 12);
    m.allocate(seqs[2]!, hashBlocks(tokens(16, 100), 4), 17);
    expect(m.reserveSlot(seqs[1]!, 12)).toBe(true);
    for (const s of seqs) m.free(s);
    expect(m.activeBlocks).toBe(0);
    expect(m.freeBlocks + m.inactiveBlocks).toBe(50);
  });

  it('evicts the least recently released blocks first, deepest suffix before its prefix', () => {
    const events: KvEvent[] = [];
    const m = new KvBlockManager(6, 4, (e) => events.push(e));
    const a = seq();
    const ha = hashBlocks(tokens(12), 4); // 3 blocks
    m.allocate(a, ha, 12);
    m.free(a);
    expect(m.evictionOrder()).toEqual([ha[2], ha[1], ha[0]]);
    const b = seq();
    const hb = hashBlocks(tokens(16, 1000), 4); // 4 new blocks: 3 free, so 1 eviction
    m.allocate(b, hb, 16);
    expect(events.at(-2)).toEqual({type: 'removed', hashes: [ha[2]]});
    expect(m.cachedPrefix(ha)).toBe(2); // the shared prefix survived
  });

  it('refuses an allocation that cannot fit, taking nothing', () => {
    const m = new KvBlockManager(3, 4);
    const a = seq();
    expect(m.allocate(a, hashBlocks(tokens(16), 4), 16)).toBe(-1);
    expect(m.freeBlocks).toBe(3);
  });

  it('reviving a cached prefix does not evict it to make room for its own suffix', () => {
    const m = new KvBlockManager(4, 4);
    const a = seq();
    const h = hashBlocks(tokens(16), 4);
    m.allocate(a, h.slice(0, 2), 8);
    m.free(a);
    const b = seq();
    expect(m.allocate(b, h, 16)).toBe(2);
    expect(m.activeBlocks).toBe(4);
  });

  it('publishes stored blocks with their parent, and promotes filled private blocks', () => {
    const events: KvEvent[] = [];
    const m = new KvBlockManager(10, 2, (e) => events.push(e));
    const a = seq();
    const t = tokens(5);
    const h = hashBlocks(t, 2);
    m.allocate(a, h, 5);
    expect(events[0]).toEqual({type: 'stored', blocks: [{hash: h[0], parent: null}, {hash: h[1], parent: h[0]}]});
    const full = hashBlocks([...t, 99], 2);
    m.promote(a, full[2]!);
    expect(events[1]).toEqual({type: 'stored', blocks: [{hash: full[2], parent: h[1]}]});
    expect(a.hashes).toEqual(full);
  });
});
