/**
 * Paged KV block manager with prefix caching, as vLLM does it:
 * - full blocks are identified by their chained (sequence) hash and shared between sequences
 *   (ref counts);
 * - a block no sequence uses stays cached ("inactive") until its space is needed, then the least
 *   recently released one is evicted first; a sequence releases its blocks tail-first, so deeper
 *   suffix blocks are evicted before the shared prefixes they hang off;
 * - a sequence's last, partly filled block is private until it fills up and gets a hash;
 * - every change to the set of cached blocks is published as a KV event in the router's model
 *   (stored with parent / removed / cleared), carrying Dynamo's hashes.
 * Invariant: free + active + inactive + private = total.
 * Each cached block sits in a slot (0 … total − 1) for as long as it is cached: where its bytes
 * live when the worker backs its blocks with memory (the KV transfer of disaggregated serving).
 */
import {type BlockHasher, hashKey} from '../../kv/block-hasher.js';
import type {KvEventData, StoredBlock} from '../../kv/events.js';
import {KeyTable} from '../../shared/key-table.js';

/** One full block: Dynamo's content hash, its sequence hash, and the latter as a Map key. */
export interface Block {
  key: number;
  local: bigint;
  seq: bigint;
}

/** The blocks of every full block of `tokens`. */
export function blocksOf(hasher: BlockHasher, tokens: ArrayLike<number>): Block[] {
  const h = hasher.hashAll(tokens);
  const out = new Array<Block>(h.local.length);
  for (let i = 0; i < out.length; i++) out[i] = {key: hashKey(h.sequence[i]!), local: h.local[i]!, seq: h.sequence[i]!};
  return out;
}

/** The block of `tokens` (from `start`, one block long) that follows `parent`. */
export function chainBlock(hasher: BlockHasher, parent: Block | undefined, tokens: ArrayLike<number>, start = 0): Block {
  const local = hasher.local(tokens, start);
  const seq = hasher.sequence(parent?.seq, local);
  return {key: hashKey(seq), local, seq};
}

interface CachedBlock {
  refs: number;
  slot: number;
  block: Block;
  parent: Block | undefined;
  /** Links in the eviction list while inactive (refs = 0). */
  prev: CachedBlock | undefined;
  next: CachedBlock | undefined;
}

/** Blocks one sequence holds. */
export interface SequenceBlocks {
  blocks: Block[];
  /** 1 when the sequence holds a private, partly filled block. */
  partial: number;
}

export class KvBlockManager {
  private readonly cached = new KeyTable<CachedBlock>();
  /** Inactive blocks (no users) as an intrusive list, oldest release first = eviction order. */
  private oldest: CachedBlock | undefined;
  private newest: CachedBlock | undefined;
  private inactiveCount = 0;
  private privateBlocks = 0;
  private activeFull = 0;
  /** allocate()'s per-block lookups, reused. */
  private readonly scratch: (CachedBlock | undefined)[] = [];
  /** Bumped whenever space is released, so a caller can tell a retry is pointless. */
  releases = 0;
  /** Slots no cached block sits in; popped from the end, so the first blocks take slots 0, 1, 2 … */
  private readonly freeSlots: number[];

  constructor(
    readonly totalBlocks: number,
    readonly blockSize: number,
    /** Hears every change to the cached set; without one, no event is even built. */
    private readonly onEvent?: (e: KvEventData) => void,
  ) {
    this.freeSlots = Array.from({length: totalBlocks}, (_, i) => totalBlocks - 1 - i);
  }

  /** The slot of a cached block; undefined when it is not cached. */
  slotOf(block: Block): number | undefined {
    return this.cached.get(block.key)?.slot;
  }

  /**
   * Forgets cached blocks nobody uses (their bytes turned out wrong: a failed KV transfer), as
   * evictions. Blocks in use are left alone.
   */
  discard(blocks: readonly Block[]): void {
    const gone: bigint[] = [];
    for (const b of blocks) {
      const c = this.cached.get(b.key);
      if (!c || c.refs > 0) continue;
      this.unlinkInactive(c);
      this.drop(c);
      gone.push(b.seq);
    }
    if (gone.length) this.onEvent?.({type: 'removed', blockHashes: gone});
  }

  private drop(c: CachedBlock): void {
    this.cached.delete(c.block.key);
    this.freeSlots.push(c.slot);
  }

  get freeBlocks(): number {
    return this.totalBlocks - this.activeFull - this.inactiveCount - this.privateBlocks;
  }
  /** Blocks in use by running sequences (what the decode-time model calls active). */
  get activeBlocks(): number {
    return this.activeFull + this.privateBlocks;
  }
  get inactiveBlocks(): number {
    return this.inactiveCount;
  }
  get usage(): number {
    return this.activeBlocks / this.totalBlocks;
  }

  private pushInactive(c: CachedBlock): void {
    c.prev = this.newest;
    c.next = undefined;
    if (this.newest) this.newest.next = c;
    else this.oldest = c;
    this.newest = c;
    this.inactiveCount++;
  }

  private unlinkInactive(c: CachedBlock): void {
    if (c.prev) c.prev.next = c.next;
    else this.oldest = c.next;
    if (c.next) c.next.prev = c.prev;
    else this.newest = c.prev;
    c.prev = c.next = undefined;
    this.inactiveCount--;
  }

  /** Takes a user on a cached block, reviving it if nobody used it. */
  private use(c: CachedBlock): void {
    if (c.refs++ === 0) {
      this.unlinkInactive(c);
      this.activeFull++;
    }
  }

  /** How many leading blocks are cached (active or not). */
  cachedPrefix(blocks: readonly Block[]): number {
    let n = 0;
    while (n < blocks.length && this.cached.has(blocks[n]!.key)) n++;
    return n;
  }

  /** Evicts inactive blocks until `n` blocks are free; false when not possible. */
  private makeRoom(n: number): boolean {
    if (this.freeBlocks >= n) return true;
    if (this.freeBlocks + this.inactiveCount < n) return false;
    const evicted: bigint[] = [];
    while (this.freeBlocks < n && this.oldest) {
      const c = this.oldest;
      this.unlinkInactive(c);
      this.drop(c);
      if (this.onEvent) evicted.push(c.block.seq);
    }
    if (evicted.length) this.onEvent?.({type: 'removed', blockHashes: evicted});
    return true;
  }

  /**
   * Takes the blocks for a prompt: cached blocks are shared, the rest newly allocated. Returns the
   * number of leading blocks that were already cached, or -1 if the blocks do not fit (nothing is
   * taken then).
   */
  allocate(seq: SequenceBlocks, blocks: readonly Block[], totalTokens: number): number {
    const partial = totalTokens % this.blockSize ? 1 : 0;
    // One lookup per block: which are cached (the prefix, and any later ones left behind by other
    // sequences; they cost no space) and which of those are inactive (reviving one takes it out of
    // what eviction can free). Nothing is touched until the whole request fits, so a request that
    // waits for room does not refresh its blocks' LRU position.
    const found = this.scratch;
    found.length = blocks.length;
    let hit = -1;
    let fresh = 0;
    let revivable = 0;
    for (let i = 0; i < blocks.length; i++) {
      const c = this.cached.get(blocks[i]!.key);
      found[i] = c;
      if (!c) {
        fresh++;
        if (hit < 0) hit = i;
      } else if (c.refs === 0) revivable++;
    }
    if (hit < 0) hit = blocks.length;
    if (fresh + partial > this.freeBlocks + this.inactiveCount - revivable) return -1;
    for (let i = 0; i < blocks.length; i++) if (found[i]) this.use(found[i]!);
    this.makeRoom(fresh + partial);
    // New blocks are published in runs, each under its parent.
    let run: StoredBlock[] = [];
    let runParent: bigint | undefined;
    const flush = () => {
      if (run.length) this.onEvent?.({type: 'stored', ...(runParent === undefined ? {} : {parentHash: runParent}), blocks: run});
      run = [];
    };
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (found[i]) {
        flush(); // taken above
        continue;
      }
      this.cached.set(b.key, {refs: 1, slot: this.freeSlots.pop()!, block: b, parent: i ? blocks[i - 1] : undefined, prev: undefined, next: undefined});
      this.activeFull++;
      if (!this.onEvent) continue;
      if (!run.length) runParent = i ? blocks[i - 1]!.seq : undefined;
      run.push({blockHash: b.seq, tokensHash: b.local});
    }
    flush();
    found.length = 0;
    seq.blocks = blocks.slice();
    seq.partial = partial;
    this.privateBlocks += partial;
    return hit;
  }

  /** Room for one more token: a new private block when the last one is full. False if none can be had. */
  reserveSlot(seq: SequenceBlocks, tokensBefore: number): boolean {
    if (tokensBefore % this.blockSize !== 0) return true; // the private block has space
    if (!this.makeRoom(1)) return false;
    seq.partial = 1;
    this.privateBlocks++;
    return true;
  }

  /** The private block just filled up: it becomes a shared, cached block. */
  promote(seq: SequenceBlocks, block: Block): void {
    if (!seq.partial) return;
    seq.partial = 0;
    this.privateBlocks--;
    const existing = this.cached.get(block.key);
    if (existing) {
      // Same content already cached (another sequence got there first): share it.
      this.use(existing);
    } else {
      const parent = seq.blocks.at(-1);
      this.cached.set(block.key, {refs: 1, slot: this.freeSlots.pop()!, block, parent, prev: undefined, next: undefined});
      this.activeFull++;
      this.onEvent?.({type: 'stored', ...(parent ? {parentHash: parent.seq} : {}), blocks: [{blockHash: block.seq, tokensHash: block.local}]});
    }
    seq.blocks.push(block);
  }

  /** Releases a sequence's blocks, tail first (deepest blocks become the first to evict). */
  free(seq: SequenceBlocks): void {
    this.privateBlocks -= seq.partial;
    seq.partial = 0;
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const c = this.cached.get(seq.blocks[i]!.key);
      if (!c) continue;
      if (--c.refs === 0) {
        this.activeFull--;
        this.pushInactive(c);
      }
    }
    seq.blocks = [];
    this.releases++;
  }

  /** Drops every cached block nobody uses (like vLLM's reset_prefix_cache). */
  clearInactive(): void {
    for (let c = this.oldest; c; c = c.next) this.drop(c);
    this.oldest = this.newest = undefined;
    this.inactiveCount = 0;
    this.releases++;
    this.onEvent?.({type: 'cleared'});
  }

  /**
   * Every cached block reachable from the root, parents before children: the state a router
   * rebuilds from after it lost events. (A block whose parent was evicted cannot be matched.)
   */
  snapshot(): KvEventData[] {
    const out: KvEventData[] = [];
    const done = new Map<number, boolean>();
    const visit = (c: CachedBlock): boolean => {
      let ok = done.get(c.block.key);
      if (ok !== undefined) return ok;
      const parent = c.parent && this.cached.get(c.parent.key);
      ok = !c.parent || (parent !== undefined && visit(parent));
      done.set(c.block.key, ok);
      if (ok) out.push({type: 'stored', ...(c.parent ? {parentHash: c.parent.seq} : {}), blocks: [{blockHash: c.block.seq, tokensHash: c.block.local}]});
      return ok;
    };
    for (const c of this.cached.values()) visit(c);
    return out;
  }

  /** Eviction order of inactive blocks (oldest first), for tests and debugging. */
  evictionOrder(): bigint[] {
    const out: bigint[] = [];
    for (let c = this.oldest; c; c = c.next) out.push(c.block.seq);
    return out;
  }
}
