/**
 * Paged KV block manager with prefix caching, as vLLM does it:
 * - full blocks are identified by their chained hash and shared between sequences (ref counts);
 * - a block no sequence uses stays cached ("inactive") until its space is needed, then the least
 *   recently released one is evicted first; a sequence releases its blocks tail-first, so deeper
 *   suffix blocks are evicted before the shared prefixes they hang off;
 * - a sequence's last, partly filled block is private until it fills up and gets a hash;
 * - every change to the set of cached blocks is published as a KV event (stored/removed/cleared).
 * Invariant: free + active + inactive + private = total.
 */
import type {BlockHash} from '../../router/block-hash.js';

export type KvEvent =
  | {type: 'stored'; blocks: {hash: BlockHash; parent: BlockHash | null}[]}
  | {type: 'removed'; hashes: BlockHash[]}
  | {type: 'cleared'};

interface CachedBlock {
  refs: number;
  parent: BlockHash | null;
}

/** Blocks one sequence holds. */
export interface SequenceBlocks {
  hashes: BlockHash[];
  /** 1 when the sequence holds a private, partly filled block. */
  partial: number;
}

export class KvBlockManager {
  private readonly cached = new Map<BlockHash, CachedBlock>();
  /** Cached blocks with no users, oldest release first (Map iteration order = eviction order). */
  private readonly inactive = new Map<BlockHash, true>();
  private privateBlocks = 0;
  private activeFull = 0;

  constructor(
    readonly totalBlocks: number,
    readonly blockSize: number,
    private readonly onEvent: (e: KvEvent) => void = () => {},
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

  /** How many leading blocks of `hashes` are cached (active or not). */
  cachedPrefix(hashes: readonly BlockHash[]): number {
    let n = 0;
    while (n < hashes.length && this.cached.has(hashes[n]!)) n++;
    return n;
  }

  /** Evicts inactive blocks until `n` blocks are free; false when not possible. */
  private makeRoom(n: number): boolean {
    if (this.freeBlocks >= n) return true;
    if (this.freeBlocks + this.inactive.size < n) return false;
    const evicted: BlockHash[] = [];
    for (const hash of this.inactive.keys()) {
      if (this.freeBlocks >= n) break;
      this.inactive.delete(hash);
      this.cached.delete(hash);
      evicted.push(hash);
    }
    if (evicted.length) this.onEvent({type: 'removed', hashes: evicted});
    return true;
  }

  /**
   * Takes the blocks for a prompt: cached prefix blocks are shared, the rest newly allocated.
   * Returns the number of prefix blocks that were already cached, or -1 if the blocks do not fit
   * (nothing is taken then).
   */
  allocate(seq: SequenceBlocks, hashes: readonly BlockHash[], totalTokens: number): number {
    const hit = this.cachedPrefix(hashes);
    const partial = totalTokens % this.blockSize ? 1 : 0;
    // Reviving inactive prefix blocks costs no free space; everything else does.
    const needed = hashes.length - hit + partial;
    const revive = hashes.slice(0, hit).filter((h) => this.inactive.has(h));
    for (const h of revive) this.inactive.delete(h); // protect them from the eviction below
    this.activeFull += revive.length;
    if (!this.makeRoom(needed)) {
      this.activeFull -= revive.length;
      for (const h of revive) this.inactive.set(h, true);
      return -1;
    }
    const stored: {hash: BlockHash; parent: BlockHash | null}[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i]!;
      const b = this.cached.get(h);
      if (b && i < hit) b.refs++;
      else {
        this.cached.set(h, {refs: 1, parent: i ? hashes[i - 1]! : null});
        this.activeFull++;
        stored.push({hash: h, parent: i ? hashes[i - 1]! : null});
      }
    }
    seq.hashes = [...hashes];
    seq.partial = partial;
    this.privateBlocks += partial;
    if (stored.length) this.onEvent({type: 'stored', blocks: stored});
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

  /** The private block just filled up: it becomes a shared, cached block with this hash. */
  promote(seq: SequenceBlocks, hash: BlockHash): void {
    if (!seq.partial) return;
    seq.partial = 0;
    this.privateBlocks--;
    const parent = seq.hashes.at(-1) ?? null;
    const existing = this.cached.get(hash);
    if (existing) {
      // Same content already cached (another sequence got there first): share it.
      if (this.inactive.delete(hash)) this.activeFull++;
      existing.refs++;
    } else {
      this.cached.set(hash, {refs: 1, parent});
      this.activeFull++;
      this.onEvent({type: 'stored', blocks: [{hash, parent}]});
    }
    seq.hashes.push(hash);
  }

  /** Releases a sequence's blocks, tail first (deepest blocks become the first to evict). */
  free(seq: SequenceBlocks): void {
    this.privateBlocks -= seq.partial;
    seq.partial = 0;
    for (let i = seq.hashes.length - 1; i >= 0; i--) {
      const h = seq.hashes[i]!;
      const b = this.cached.get(h);
      if (!b) continue;
      if (--b.refs === 0) {
        this.activeFull--;
        this.inactive.set(h, true);
      }
    }
    seq.hashes = [];
  }

  /** Drops every cached block nobody uses (like vLLM's reset_prefix_cache). */
  clearInactive(): void {
    for (const h of this.inactive.keys()) this.cached.delete(h);
    this.inactive.clear();
    this.onEvent({type: 'cleared'});
  }

  /** Eviction order of inactive blocks (oldest first), for tests and debugging. */
  evictionOrder(): BlockHash[] {
    return [...this.inactive.keys()];
  }
}
