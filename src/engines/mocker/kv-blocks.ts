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
 */
import {type BlockHasher, hashKey} from '../../router/block-hasher.js';
import type {KvEventData, StoredBlock} from '../../router/events/types.js';

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

interface CachedBlock {
  refs: number;
  block: Block;
  parent: Block | undefined;
}

/** Blocks one sequence holds. */
export interface SequenceBlocks {
  blocks: Block[];
  /** 1 when the sequence holds a private, partly filled block. */
  partial: number;
}

export class KvBlockManager {
  private readonly cached = new Map<number, CachedBlock>();
  /** Cached blocks with no users, oldest release first (Map iteration order = eviction order). */
  private readonly inactive = new Map<number, Block>();
  private privateBlocks = 0;
  private activeFull = 0;

  constructor(
    readonly totalBlocks: number,
    readonly blockSize: number,
    private readonly onEvent: (e: KvEventData) => void = () => {},
  ) {}

  get freeBlocks(): number {
    return this.totalBlocks - this.activeFull - this.inactive.size - this.privateBlocks;
  }
  /** Blocks in use by running sequences (what the decode-time model calls active). */
  get activeBlocks(): number {
    return this.activeFull + this.privateBlocks;
  }
  get inactiveBlocks(): number {
    return this.inactive.size;
  }
  get usage(): number {
    return this.activeBlocks / this.totalBlocks;
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
    if (this.freeBlocks + this.inactive.size < n) return false;
    const evicted: bigint[] = [];
    for (const [key, block] of this.inactive) {
      if (this.freeBlocks >= n) break;
      this.inactive.delete(key);
      this.cached.delete(key);
      evicted.push(block.seq);
    }
    if (evicted.length) this.onEvent({type: 'removed', blockHashes: evicted});
    return true;
  }

  /**
   * Takes the blocks for a prompt: cached blocks are shared, the rest newly allocated. Returns the
   * number of leading blocks that were already cached, or -1 if the blocks do not fit (nothing is
   * taken then).
   */
  allocate(seq: SequenceBlocks, blocks: readonly Block[], totalTokens: number): number {
    const hit = this.cachedPrefix(blocks);
    const partial = totalTokens % this.blockSize ? 1 : 0;
    // Cached blocks (the prefix, and any later ones left behind by other sequences) cost no space;
    // inactive ones are revived first so the eviction below cannot take them.
    let fresh = 0;
    const revived: Block[] = [];
    for (const b of blocks) {
      if (!this.cached.has(b.key)) fresh++;
      else if (this.inactive.delete(b.key)) revived.push(b);
    }
    this.activeFull += revived.length;
    if (!this.makeRoom(fresh + partial)) {
      this.activeFull -= revived.length;
      for (const b of revived) this.inactive.set(b.key, b);
      return -1;
    }
    // New blocks are published in runs, each under its parent.
    let run: StoredBlock[] = [];
    let runParent: bigint | undefined;
    const flush = () => {
      if (run.length) this.onEvent({type: 'stored', ...(runParent === undefined ? {} : {parentHash: runParent}), blocks: run});
      run = [];
    };
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      const c = this.cached.get(b.key);
      if (c) {
        c.refs++;
        flush();
        continue;
      }
      this.cached.set(b.key, {refs: 1, block: b, parent: i ? blocks[i - 1] : undefined});
      this.activeFull++;
      if (!run.length) runParent = i ? blocks[i - 1]!.seq : undefined;
      run.push({blockHash: b.seq, tokensHash: b.local});
    }
    flush();
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
      if (this.inactive.delete(block.key)) this.activeFull++;
      existing.refs++;
    } else {
      const parent = seq.blocks.at(-1);
      this.cached.set(block.key, {refs: 1, block, parent});
      this.activeFull++;
      this.onEvent({type: 'stored', ...(parent ? {parentHash: parent.seq} : {}), blocks: [{blockHash: block.seq, tokensHash: block.local}]});
    }
    seq.blocks.push(block);
  }

  /** Releases a sequence's blocks, tail first (deepest blocks become the first to evict). */
  free(seq: SequenceBlocks): void {
    this.privateBlocks -= seq.partial;
    seq.partial = 0;
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const b = seq.blocks[i]!;
      const c = this.cached.get(b.key);
      if (!c) continue;
      if (--c.refs === 0) {
        this.activeFull--;
        this.inactive.set(b.key, b);
      }
    }
    seq.blocks = [];
  }

  /** Drops every cached block nobody uses (like vLLM's reset_prefix_cache). */
  clearInactive(): void {
    for (const key of this.inactive.keys()) this.cached.delete(key);
    this.inactive.clear();
    this.onEvent({type: 'cleared'});
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
    return [...this.inactive.values()].map((b) => b.seq);
  }
}
