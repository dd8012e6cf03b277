import {describe, expect, it} from 'vitest';
import {prng} from '../shared/prng.js';
import {native} from '../native/index.js';
import {blockList} from '../kv/block-list.js';
import {type KvIndex, NativeKvIndex, TsKvIndex} from './kv-index.js';

const big = (xs: number[]) => xs.map(BigInt);
/** Blocks with content hashes `locals` and engine ids seqBase + position. */
const chain = (ix: KvIndex, worker: string, locals: number[], seqBase = 1000, parent?: bigint) =>
  ix.store(worker, parent, big(locals), big(locals.map((_, i) => seqBase + i)));
const scores = (ix: KvIndex, locals: number[]) => Object.fromEntries(ix.findMatches(big(locals)).scores);

// The addon is built by `npm run setup` and the test setup: its absence is a failure here.
const nativeIndex = () => new NativeKvIndex(native ?? (() => { throw new Error('the native addon is not built'); })());

describe.each([
  ['typescript', () => new TsKvIndex()],
  ['native', nativeIndex],
] as [string, () => KvIndex][])('prefix index (%s)', (_name, make) => {
  it('scores each worker by the leading request blocks it holds, with full 64-bit hashes', () => {
    const ix = make();
    chain(ix, 'w1', [1, 2, 3, 4]);
    chain(ix, 'w2', [1, 2]);
    chain(ix, 'w3', [9]);
    expect(scores(ix, [1, 2, 3, 5])).toEqual({w1: 3, w2: 2});
    expect(Object.fromEntries(ix.findMatches(big([1, 2, 3, 5])).treeSizes)).toEqual({w1: 4, w2: 2});
    expect(ix.findMatches(big([7])).scores.size).toBe(0);
    expect(ix.findMatches([]).scores.size).toBe(0);
    const high = 2n ** 64n - 1n;
    ix.store('w4', undefined, [high], [high - 1n]);
    expect(Object.fromEntries(ix.findMatches([high]).scores)).toEqual({w4: 1});
  });

  it('appends stored blocks under their parent, and reports a missing parent', () => {
    const ix = make();
    chain(ix, 'w', [1, 2]);
    expect(ix.store('w', 1001n, [3n], [1002n])).toBe('ok');
    expect(scores(ix, [1, 2, 3])).toEqual({w: 3});
    expect(ix.store('w', 4242n, [9n], [5000n])).toBe('parent_block_not_found');
    expect(ix.treeSize('w')).toBe(3);
  });

  it('treats a duplicate stored event as a no-op', () => {
    const ix = make();
    chain(ix, 'w', [1, 2]);
    chain(ix, 'w', [1, 2]);
    expect(ix.treeSize('w')).toBe(2);
    expect(scores(ix, [1, 2])).toEqual({w: 2});
  });

  it('removes blocks, pruning nodes nobody holds', () => {
    const ix = make();
    chain(ix, 'w1', [1, 2, 3]);
    chain(ix, 'w2', [1, 2], 2000);
    expect(ix.remove('w1', [1002n])).toBe('ok');
    expect(scores(ix, [1, 2, 3])).toEqual({w1: 2, w2: 2});
    expect(ix.remove('w1', [4242n])).toBe('block_not_found');
    expect(ix.remove('nobody', [1n])).toBe('block_not_found');
    ix.remove('w2', [2001n, 2000n]);
    ix.remove('w1', [1001n, 1000n]);
    expect(ix.findMatches(big([1])).scores.size).toBe(0);
    chain(ix, 'w1', [1, 2, 3]); // the pruned path grows back
    expect(scores(ix, [1, 2, 3])).toEqual({w1: 3});
  });

  it('forgets a worker that cleared its cache or left, keeping the others', () => {
    const ix = make();
    chain(ix, 'w1', [1, 2, 3]);
    chain(ix, 'w2', [1, 2], 2000);
    ix.clear('w1');
    expect(scores(ix, [1, 2, 3])).toEqual({w2: 2});
    expect(ix.treeSize('w1')).toBe(0);
    ix.clear('w2');
    expect(ix.findMatches(big([1])).scores.size).toBe(0);
    ix.clear('never-seen');
  });

  it('handles more than 64 workers', () => {
    const ix = make();
    for (let w = 0; w < 70; w++) chain(ix, `w${w}`, w % 2 ? [1, 2, 3] : [1, 2], 1000 + w * 10);
    const s = ix.findMatches(big([1, 2, 3])).scores;
    expect(s.size).toBe(70);
    expect(s.get('w69')).toBe(3);
    expect(s.get('w68')).toBe(2);
  });
});

describe('native and TypeScript indexes agree on random event streams', () => {
  it('same overlaps, tree sizes and statuses after 20,000 random stored/removed/cleared events over 70 workers', () => {
    const rand = prng(11);
    const a = new TsKvIndex();
    const b = nativeIndex();
    // Engine ids derive from content, as vLLM's do: the same block always has the same id.
    const idOf = (local: bigint) => local * 7919n + 13n;
    const held = new Map<string, Map<bigint, number>>(); // worker → id → depth
    const prefixes = Array.from({length: 40}, (_, p) => Array.from({length: 12}, (_, i) => BigInt(p * 100 + i + 1)));
    for (let op = 0; op < 20_000; op++) {
      const w = `w${Math.floor(rand() * 70)}`;
      let mine = held.get(w);
      if (!mine) held.set(w, (mine = new Map()));
      const r = rand();
      if (r < 0.6) {
        const p = prefixes[Math.floor(rand() * prefixes.length)]!;
        const n = 1 + Math.floor(rand() * p.length);
        const ext = p.slice(0, n).map(idOf);
        expect(a.store(w, undefined, p.slice(0, n), ext)).toBe(b.store(w, undefined, p.slice(0, n), ext));
        for (const [depth, id] of ext.entries()) mine.set(id, depth);
      } else if (r < 0.98) {
        // Evict some of the deepest blocks (engines evict tails first), sometimes one already gone.
        const gone = [...mine].sort((x, y) => y[1] - x[1]).slice(0, Math.floor(rand() * 4)).map(([id]) => id);
        if (rand() < 0.1) gone.push(idOf(99_999n));
        expect(a.remove(w, gone)).toBe(b.remove(w, gone));
        for (const id of gone) mine.delete(id);
      } else {
        a.clear(w);
        b.clear(w);
        mine.clear();
      }
      if (op % 250 === 0) {
        const q = prefixes[Math.floor(rand() * prefixes.length)]!;
        expect(b.findMatches(q)).toEqual(a.findMatches(q));
        expect(b.treeSize(w)).toBe(a.treeSize(w));
      }
    }
  });
});

describe('native and TypeScript indexes agree where chains branch, resume mid-chain and lose middle blocks', () => {
  it('same statuses, overlaps and tree sizes over 30,000 random events on branching paths', () => {
    const rand = prng(23);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const a = new TsKvIndex();
    const b = nativeIndex();
    // Paths that share prefixes of any length and then diverge (the native index splits its edges
    // there), over a small alphabet of content hashes so that branches reuse the same values.
    const paths: bigint[][] = [[]];
    for (let p = 0; p < 60; p++) {
      const base = pick(paths);
      const shared = base.slice(0, Math.floor(rand() * (base.length + 1)));
      paths.push([...shared, ...Array.from({length: 4 + Math.floor(rand() * 20)}, () => BigInt(1 + Math.floor(rand() * 5)))]);
    }
    paths.shift();
    // An engine id per path prefix (as a sequence hash would be), random 64-bit values.
    const ids = new Map<string, bigint>();
    const idOf = (path: bigint[], i: number) => {
      const k = path.slice(0, i + 1).join(',');
      let id = ids.get(k);
      if (id === undefined) ids.set(k, (id = BigInt.asUintN(64, BigInt(Math.floor(rand() * 2 ** 32)) * 4294967311n + BigInt(ids.size))));
      return id;
    };
    const held = new Map<string, Set<bigint>>();
    for (let op = 0; op < 30_000; op++) {
      const w = `w${Math.floor(rand() * 70)}`;
      let mine = held.get(w);
      if (!mine) held.set(w, (mine = new Set()));
      const r = rand();
      if (r < 0.55) {
        // A stored event: part of a path, from the root or after a block the worker may hold.
        const p = pick(paths);
        const start = rand() < 0.5 ? 0 : Math.floor(rand() * p.length);
        const end = start + 1 + Math.floor(rand() * (p.length - start));
        const parent = start ? idOf(p, start - 1) : undefined;
        const locals = p.slice(start, end);
        const ext = locals.map((_, i) => idOf(p, start + i));
        const status = a.store(w, parent, locals, ext);
        expect(b.store(w, parent, locals, ext)).toBe(status);
        if (status === 'ok') for (const id of ext) mine.add(id);
      } else if (r < 0.97) {
        // A removed event: any blocks the worker holds (middle ones too), sometimes an unknown one.
        const gone = [...mine].filter(() => rand() < 0.3).slice(0, 6);
        if (rand() < 0.1) gone.push(12345n);
        expect(b.remove(w, gone)).toBe(a.remove(w, gone));
        for (const id of gone) mine.delete(id);
      } else {
        a.clear(w);
        b.clear(w);
        mine.clear();
      }
      if (op % 50 === 0) {
        const p = pick(paths);
        const q = [...p.slice(0, Math.floor(rand() * (p.length + 1))), ...Array.from({length: Math.floor(rand() * 4)}, () => BigInt(1 + Math.floor(rand() * 5)))];
        expect(b.findMatches(q)).toEqual(a.findMatches(q));
        for (const name of held.keys()) expect(b.treeSize(name)).toBe(a.treeSize(name));
      }
    }
  });
});

describe('NativeKvIndex', () => {
  it('gives scores by worker index without Maps, and tree sizes that follow later events', () => {
    const ix = nativeIndex();
    chain(ix, 'a', [1, 2, 3]);
    chain(ix, 'b', [1, 2], 2000);
    const n = ix.findMatchesInto(big([1, 2, 3]));
    expect(n).toBe(2);
    expect(Array.from({length: n}, (_, i) => [ix.workerName(i), ix.matchScores[i], ix.matchTreeSizes[i]])).toEqual([
      ['a', 3, 3],
      ['b', 2, 2],
    ]);
    expect(ix.treeSize('b')).toBe(2);
    ix.store('b', 2001n, [3n], [2002n]);
    expect(ix.treeSize('b')).toBe(3);
    ix.findMatches(big([1]));
    ix.remove('a', [1002n]);
    expect(ix.treeSize('a')).toBe(2);
    ix.findMatches(big([1]));
    ix.clear('a');
    expect(ix.treeSize('a')).toBe(0);
    expect(ix.findMatchesInto([])).toBe(0);
  });
});

describe('NativeKvIndex.dispose', () => {
  it('releases the index; using it after throws instead of crashing', () => {
    const ix = nativeIndex();
    chain(ix, 'a', [1, 2, 3]);
    ix.dispose();
    expect(() => ix.findMatches(big([1]))).toThrow(TypeError);
    expect(() => ix.store('a', undefined, [1n], [2n])).toThrow(TypeError);
    ix.dispose(); // twice is fine
  });
});

describe('native index arguments', () => {
  it('takes events as typed or plain arrays of any size mix (scratch arrays are reused)', () => {
    const ix = nativeIndex();
    const big300 = Array.from({length: 300}, (_, i) => BigInt(i + 1));
    expect(ix.store('w', undefined, big300, big300.map((x) => x + 10_000n))).toBe('ok');
    // A typed array next to a plain one: the plain one goes through a scratch array that has grown.
    expect(ix.store('v', undefined, BigUint64Array.from([1n, 2n, 3n]), [7n, 8n, 9n])).toBe('ok');
    expect(ix.store('u', undefined, [1n, 2n], BigUint64Array.from([5n, 6n]))).toBe('ok');
    expect(Object.fromEntries(ix.findMatches([1n, 2n, 3n]).scores)).toEqual({w: 3, v: 3, u: 2});
    expect(ix.remove('v', [9n, 8n])).toBe('ok');
    expect(() => ix.store('w', undefined, [1n, 2n], [3n])).toThrow(/length/);
  });
});

describe('queued events', () => {
  it.each([
    ['typescript', () => new TsKvIndex()],
    ['native', nativeIndex],
  ] as const)('%s: queueStored/queueRemoved end as the same calls made at once, in order, across full batches and clears', (_, make) => {
    const rand = prng(5);
    const direct = new TsKvIndex();
    const queued: KvIndex = make();
    // Full 64-bit ids: both 32-bit words of every hash matter.
    const idOf = (local: bigint) => (local * 0x9e3779b97f4a7c15n + 7n) & 0xffffffffffffffffn;
    const blocksOf = (p: bigint[]) => blockList(p, p.map(idOf));
    const words = (h: bigint) => [Number(h & 0xffffffffn), Number(h >> 32n)];
    const prefixes = Array.from({length: 30}, (_, p) => Array.from({length: 40}, (_, i) => BigInt(p * 1000 + i + 1)));
    // One stored event longer than the native batch buffer (64 Ki hashes): it must go alone.
    const huge = Array.from({length: 40_000}, (_, i) => BigInt(5_000_000 + i));
    const hugeBlocks = blocksOf(huge);
    queued.queueStored('w0', undefined, hugeBlocks.localWords, hugeBlocks.sequenceWords, 0, huge.length);
    direct.store('w0', undefined, huge, huge.map(idOf));
    for (let op = 0; op < 20_000; op++) {
      const w = `w${Math.floor(rand() * 5)}`;
      const p = prefixes[Math.floor(rand() * prefixes.length)]!;
      const r = rand();
      if (r < 0.55) {
        // A run under its parent (from > 0) or from the root, as the block manager publishes them.
        const from = rand() < 0.5 ? 0 : Math.floor(rand() * 10);
        const to = from + 1 + Math.floor(rand() * (p.length - from));
        const b = blocksOf(p);
        queued.queueStored(w, from ? words(idOf(p[from - 1]!)) : undefined, b.localWords, b.sequenceWords, from, to);
        direct.store(w, from ? idOf(p[from - 1]!) : undefined, p.slice(from, to), p.slice(from, to).map(idOf));
      } else if (r < 0.99) {
        const tail = p.slice(p.length - 1 - Math.floor(rand() * 5)).reverse();
        queued.queueRemoved(w, blocksOf(tail).sequenceWords, tail.length);
        direct.remove(w, tail.map(idOf));
      } else {
        queued.clear(w);
        direct.clear(w);
      }
      // Rarely enough that batches fill up (~100 Ki hashes between queries) and go on their own.
      if (op % 4000 === 0) {
        const q = prefixes[Math.floor(rand() * prefixes.length)]!;
        expect(queued.findMatches(q)).toEqual(direct.findMatches(q));
        for (let k = 0; k < 5; k++) expect(queued.treeSize(`w${k}`)).toBe(direct.treeSize(`w${k}`));
      }
    }
    expect(queued.findMatches(huge.slice(0, 100)).scores.get('w0')).toBe(direct.findMatches(huge.slice(0, 100)).scores.get('w0'));
  });

  it('indexApply refuses ops that name more hashes than given, or a bad kind', () => {
    const addon = native!;
    const ix = addon.indexNew();
    expect(() => addon.indexApply(ix, Uint32Array.from([0, 0, 2]), 1, new BigUint64Array(3))).toThrow(/more hashes/);
    expect(() => addon.indexApply(ix, Uint32Array.from([7, 0, 0]), 1, new BigUint64Array(0))).toThrow(/bad kind/);
    addon.indexApply(ix, Uint32Array.from([0, 0, 2, 2, 0, 1]), 2, BigUint64Array.from([1n, 2n, 11n, 12n, 12n]));
    addon.indexFree(ix);
  });

  it('drops removals for a worker the index never saw', () => {
    const ix = nativeIndex();
    ix.queueRemoved('nobody', blockList([1n], [2n]).sequenceWords, 1);
    expect(ix.treeSize('nobody')).toBe(0);
    expect(ix.findMatches([1n]).scores.size).toBe(0);
  });
});

describe('predictions (approximate routing)', () => {
  it.each([
    ['typescript', () => new TsKvIndex()],
    ['native', nativeIndex],
  ] as const)('%s: predict, expire and prune leave what the same steps leave in the reference, and count alike', (_, make) => {
    const rand = prng(11);
    const ix: KvIndex = make();
    // The reference: the TypeScript index fed the same stores and the removals a plain model of
    // the expiries implies (per worker, block → the latest expiry that covers it).
    const ref = new TsKvIndex();
    const expiries = new Map<string, Map<bigint, {expiry: number; depth: number; order: number}>>();
    let order = 0;
    const idOf = (local: bigint) => (local * 0x9e3779b97f4a7c15n + 3n) & 0xffffffffffffffffn;
    // Chains share prefixes: 12 roots × branches, so refreshes and partial lapses both happen.
    const chains = Array.from({length: 60}, (_, c) => Array.from({length: 4 + (c % 9)}, (_, d) => BigInt((c % 12) * 1000 + (d < 3 ? d : c * 50 + d) + 1)));
    const lapse = (taken: [string, bigint, number][]) => {
      // Deepest first per worker, as the index removes them.
      taken.sort((a, b) => b[2] - a[2]);
      for (const [w, local] of taken) {
        ref.remove(w, [idOf(local)]);
        expiries.get(w)!.delete(local);
      }
    };
    let now = 0;
    for (let step = 0; step < 3000; step++) {
      now += rand() * 300;
      const w = `w${Math.floor(rand() * 4)}`;
      const chain = chains[Math.floor(rand() * chains.length)]!;
      const blocks = blockList(chain, chain.map(idOf));
      const expiry = now + 2000;
      // Half the time with what the router passes: the leading blocks the index gives the worker already.
      ix.predict(w, blocks, expiry, rand() < 0.5 ? (ix.findMatches(chain).scores.get(w) ?? 0) : 0);
      ref.store(w, undefined, chain, chain.map(idOf));
      const mine = expiries.get(w) ?? new Map();
      expiries.set(w, mine);
      for (const [depth, local] of chain.entries()) mine.set(local, {expiry, depth, order: mine.get(local)?.order ?? order++});
      if (step % 7 === 0) {
        ix.expire(now);
        lapse([...expiries].flatMap(([wk, m]) => [...m].filter(([, p]) => p.expiry <= now).map(([local, p]) => [wk, local, p.depth] as [string, bigint, number])));
      }
      if (step % 500 === 499) {
        const all = [...expiries].flatMap(([wk, m]) => [...m].map(([local, p]) => ({wk, local, ...p})));
        all.sort((a, b) => a.expiry - b.expiry || b.depth - a.depth);
        const keep = Math.floor(all.length / 2);
        ix.pruneOldest(keep);
        lapse(all.slice(0, all.length - keep).map((p) => [p.wk, p.local, p.depth]));
      }
      if (step % 100 === 0) {
        const q = chains[Math.floor(rand() * chains.length)]!;
        expect(ix.findMatches(q)).toEqual(ref.findMatches(q));
        for (let k = 0; k < 4; k++) {
          expect(ix.treeSize(`w${k}`)).toBe(ref.treeSize(`w${k}`));
          expect(ix.predicted(`w${k}`)).toBe(expiries.get(`w${k}`)?.size ?? 0);
        }
        expect(ix.predicted()).toBe([...expiries.values()].reduce((n, m) => n + m.size, 0));
      }
    }
    ix.clear('w0');
    expect(ix.predicted('w0')).toBe(0);
    expect(ix.treeSize('w0')).toBe(0);
    ix.expire(now + 1e9);
    expect(ix.predicted()).toBe(0);
    for (let k = 1; k < 4; k++) expect(ix.treeSize(`w${k}`)).toBe(0);
  });
});
