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
 * The manager keeps its state per slot in typed arrays (ref counts, eviction links, the block's
 * hashes and its parent's key) rather than an object per cached block, and takes blocks as
 * BlockLists (block-list.ts): a replay caches millions of blocks, and objects by the million cost
 * the garbage collector more than the simulation.
 */
import type {BlockHasher} from '../../kv/block-hasher.js';
import {type BlockList, blockList, emptyBlocks, wordsHash, wordsKey} from '../../kv/block-list.js';
import type {KvEventData, KvEventSink} from '../../kv/events.js';
import {SlotTable} from '../../shared/slot-table.js';

/** The blocks of every full block of `tokens`. */
export function blocksOf(hasher: BlockHasher, tokens: ArrayLike<number>): BlockList {
  const h = hasher.hashAll(tokens);
  return blockList(h.local, h.sequence);
}

/** One block's hashes (a block a sequence just filled). */
export interface BlockHashes {
  local: bigint;
  sequence: bigint;
}

/** The block of `tokens` (from `start`, one block long) that follows the block with sequence hash `parent`. */
export function chainBlock(hasher: BlockHasher, parent: bigint | undefined, tokens: ArrayLike<number>, start = 0): BlockHashes {
  const local = hasher.local(tokens, start);
  return {local, sequence: hasher.sequence(parent, local)};
}

/**
 * Blocks one sequence holds: the slots of its full blocks, in order, as allocate() and promote()
 * took them (a held block stays in its slot: only blocks nobody uses are evicted or dropped).
 */
export interface SequenceBlocks {
  held: number[];
  /** 1 when the sequence holds a private, partly filled block. */
  partial: number;
}

/** No slot (the end of the eviction list). */
const NONE = -1;

export class KvBlockManager {
  /** Block key → the slot its cached block sits in. */
  private readonly slots: SlotTable;
  // Per slot, while a block is cached there (the arrays grow as slots are first used):
  private refs = new Int32Array(0);
  /** Links in the eviction list while inactive (refs = 0). */
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  /** The block's hashes as words: local low, local high, sequence low, sequence high. */
  private words = new Uint32Array(0);
  /** Its parent's key, -1 for none (snapshot() finds the parent by it: it is published only while cached). */
  private parentKey = new Float64Array(0);
  /** Inactive blocks (no users) as a list through prev/next, oldest release first = eviction order. */
  private oldest = NONE;
  private newest = NONE;
  private inactiveCount = 0;
  private privateBlocks = 0;
  private activeFull = 0;
  /** allocate()'s per-block lookups (a slot or NONE), reused; entries past the prompt are stale. */
  private readonly scratch: number[] = [];
  /** Sequence-hash words of the blocks one makeRoom() evicts (the removed event), reused. */
  private evicted = new Uint32Array(512);
  /** A promoted block, as events take it. */
  private readonly promoted = emptyBlocks(1);
  /** The sequence-hash words of the parent of the blocks a stored event names. */
  private readonly parent = new Uint32Array(2);
  /** Bumped whenever space is released, so a caller can tell a retry is pointless. */
  releases = 0;
  /**
   * Free slots: those released (reused last-released first), then every slot from `neverUsed` up,
   * so the first blocks take slots 0, 1, 2 … (no list of all slots: a replay sizes caches at 4 M).
   */
  private readonly releasedSlots: number[] = [];
  private neverUsed = 0;

  constructor(
    readonly totalBlocks: number,
    readonly blockSize: number,
    /** Hears every change to the cached set, as calls with hashes as words; without one, no event is even built. */
    private readonly sink?: KvEventSink,
    opts: {presized?: boolean} = {},
  ) {
    // A replay's caches name millions of blocks and use a tenth: its table starts at 128 Ki blocks
    // and grows (rehashing a growing table costs more than a replay's lookups). A real-time
    // engine's (`presized`) holds every block from the start: one that doubles under load stops
    // the engine while it moves its keys (at 262,144 blocks: 54 ms here, 4,047 page faults for the
    // new 16 MB). Its pages are touched as blocks land on them, a few at a time, not all at once
    // (the hashes spread over the table, so it is mostly resident after a tenth of its blocks).
    this.slots = new SlotTable(opts.presized ? totalBlocks : Math.min(totalBlocks, 1 << 17));
  }

  /** Blocks its table of cached blocks holds before it grows. */
  get tableCapacity(): number {
    return this.slots.capacity;
  }

  /** A free slot, now holding the block with these words (under the block keyed `parentKey`, -1 for none) with one user. */
  private take(localLo: number, localHi: number, seqLo: number, seqHi: number, key: number, parentKey: number): number {
    let s = this.releasedSlots.pop();
    if (s === undefined) {
      s = this.neverUsed++;
      if (s >= this.refs.length) this.growSlots(s + 1);
    }
    this.refs[s] = 1;
    const w = this.words;
    w[4 * s] = localLo;
    w[4 * s + 1] = localHi;
    w[4 * s + 2] = seqLo;
    w[4 * s + 3] = seqHi;
    this.parentKey[s] = parentKey;
    this.slots.set(key, s);
    this.activeFull++;
    return s;
  }

  /**
   * Room for every slot, in one step: slots are taken in order (0, 1, 2 …), so only the pages of
   * slots in use are ever touched (a replay's unbounded caches name 4 M slots and use a tenth of
   * them), and nothing is copied as the cache fills up.
   */
  private growSlots(min: number): void {
    const n = Math.max(min, this.totalBlocks);
    const grown = <T extends Int32Array | Uint32Array | Float64Array>(a: T, make: (n: number) => T, per = 1): T => {
      const out = make(n * per);
      out.set(a);
      return out;
    };
    const int32 = (k: number) => new Int32Array(k);
    this.refs = grown(this.refs, int32);
    this.prev = grown(this.prev, int32);
    this.next = grown(this.next, int32);
    this.words = grown(this.words, (k) => new Uint32Array(k), 4);
    this.parentKey = grown(this.parentKey, (k) => new Float64Array(k));
  }

  /** The key of the block in slot `s`. */
  private keyAt(s: number): number {
    return wordsKey(this.words[4 * s + 2]!, this.words[4 * s + 3]!);
  }

  /** The sequence hash of the block in slot `s`. */
  sequenceHash(s: number): bigint {
    return wordsHash(this.words[4 * s + 2]!, this.words[4 * s + 3]!);
  }

  /** The slot of block `i` of `blocks` when it is cached; undefined when it is not. */
  slotOf(blocks: BlockList, i: number): number | undefined {
    const s = this.slots.get(blocks.keys[i]!);
    return s === NONE ? undefined : s;
  }

  /**
   * Forgets cached blocks nobody uses (their bytes turned out wrong: a failed KV transfer), as
   * evictions: blocks `indices` of `blocks`. Blocks in use are left alone.
   */
  discard(blocks: BlockList, indices: readonly number[]): void {
    let gone = 0;
    for (const i of indices) {
      const s = this.slots.get(blocks.keys[i]!);
      if (s === NONE || this.refs[s]! > 0) continue;
      this.unlinkInactive(s);
      this.noteEvicted(gone++, s);
      this.drop(s);
    }
    if (gone) this.sink?.removed(this.evicted, gone);
  }

  /** Records slot `s`'s sequence hash as the `n`-th block of a removed event. */
  private noteEvicted(n: number, s: number): void {
    if (2 * n + 2 > this.evicted.length) {
      const grown = new Uint32Array(2 * this.evicted.length);
      grown.set(this.evicted);
      this.evicted = grown;
    }
    this.evicted[2 * n] = this.words[4 * s + 2]!;
    this.evicted[2 * n + 1] = this.words[4 * s + 3]!;
  }

  private drop(s: number): void {
    this.slots.delete(this.keyAt(s));
    this.releasedSlots.push(s);
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

  private pushInactive(s: number): void {
    this.prev[s] = this.newest;
    this.next[s] = NONE;
    if (this.newest !== NONE) this.next[this.newest] = s;
    else this.oldest = s;
    this.newest = s;
    this.inactiveCount++;
  }

  private unlinkInactive(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p !== NONE) this.next[p] = n;
    else this.oldest = n;
    if (n !== NONE) this.prev[n] = p;
    else this.newest = p;
    this.inactiveCount--;
  }

  /** Takes a user on a cached block, reviving it if nobody used it. */
  private use(s: number): void {
    if (this.refs[s]!++ === 0) {
      this.unlinkInactive(s);
      this.activeFull++;
    }
  }

  /** How many leading blocks are cached (active or not). */
  cachedPrefix(blocks: BlockList): number {
    let n = 0;
    while (n < blocks.keys.length && this.slots.has(blocks.keys[n]!)) n++;
    return n;
  }

  /** Evicts inactive blocks until `n` blocks are free; false when not possible. */
  private makeRoom(n: number): boolean {
    if (this.freeBlocks >= n) return true;
    if (this.freeBlocks + this.inactiveCount < n) return false;
    let evicted = 0;
    while (this.freeBlocks < n && this.oldest !== NONE) {
      const s = this.oldest;
      this.unlinkInactive(s);
      if (this.sink) this.noteEvicted(evicted++, s);
      this.drop(s);
    }
    if (evicted) this.sink?.removed(this.evicted, evicted);
    return true;
  }

  /**
   * Takes the first `count` blocks of `blocks` (all by default) for a prompt of `totalTokens`:
   * cached blocks are shared, the rest newly allocated. Returns the number of leading blocks that
   * were already cached, or -1 if the blocks do not fit (nothing is taken then).
   */
  allocate(seq: SequenceBlocks, blocks: BlockList, totalTokens: number, count = blocks.keys.length): number {
    const partial = totalTokens % this.blockSize ? 1 : 0;
    const keys = blocks.keys;
    // One lookup per block: which are cached (the prefix, and any later ones left behind by other
    // sequences; they cost no space) and which of those are inactive (reviving one takes it out of
    // what eviction can free). Nothing is touched until the whole request fits, so a request that
    // waits for room does not refresh its blocks' LRU position.
    const found = this.scratch;
    let hit = -1;
    let fresh = 0;
    let revivable = 0;
    for (let i = 0; i < count; i++) {
      const s = this.slots.get(keys[i]!);
      found[i] = s;
      if (s === NONE) {
        fresh++;
        if (hit < 0) hit = i;
      } else if (this.refs[s] === 0) revivable++;
    }
    if (hit < 0) hit = count;
    if (fresh + partial > this.freeBlocks + this.inactiveCount - revivable) return -1;
    for (let i = 0; i < count; i++) if (found[i] !== NONE) this.use(found[i]!);
    this.makeRoom(fresh + partial);
    // New blocks are published in runs, each under its parent: blocks[runFrom … i).
    const held = new Array<number>(count);
    const lw = blocks.localWords;
    const sw = blocks.sequenceWords;
    let runFrom = -1;
    for (let i = 0; i < count; i++) {
      if (found[i] !== NONE) {
        held[i] = found[i]!; // taken above
        if (runFrom >= 0) this.publish(blocks, runFrom, i);
        runFrom = -1;
        continue;
      }
      held[i] = this.take(lw[2 * i]!, lw[2 * i + 1]!, sw[2 * i]!, sw[2 * i + 1]!, keys[i]!, i ? keys[i - 1]! : -1);
      if (runFrom < 0) runFrom = i;
    }
    if (runFrom >= 0) this.publish(blocks, runFrom, count);
    seq.held = held;
    seq.partial = partial;
    this.privateBlocks += partial;
    return hit;
  }

  /** A stored event of blocks[from … to), under the block before `from`. */
  private publish(blocks: BlockList, from: number, to: number): void {
    if (!this.sink) return;
    let parent: Uint32Array | undefined;
    if (from) {
      parent = this.parent;
      parent[0] = blocks.sequenceWords[2 * from - 2]!;
      parent[1] = blocks.sequenceWords[2 * from - 1]!;
    }
    this.sink.stored(parent, blocks.localWords, blocks.sequenceWords, from, to);
  }

  /** Room for one more token: a new private block when the last one is full. False if none can be had. */
  reserveSlot(seq: SequenceBlocks, tokensBefore: number): boolean {
    if (tokensBefore % this.blockSize !== 0) return true; // the private block has space
    if (!this.makeRoom(1)) return false;
    seq.partial = 1;
    this.privateBlocks++;
    return true;
  }

  /** The sequence hash of the last full block a sequence holds; undefined when it holds none. */
  lastSequenceHash(seq: SequenceBlocks): bigint | undefined {
    return seq.held.length ? this.sequenceHash(seq.held.at(-1)!) : undefined;
  }

  /** The private block just filled up (its hashes `block`): it becomes a shared, cached block. */
  promote(seq: SequenceBlocks, block: BlockHashes): void {
    if (!seq.partial) return;
    seq.partial = 0;
    this.privateBlocks--;
    const one = this.promoted;
    one.local[0] = block.local;
    one.sequence[0] = block.sequence;
    const local = one.localWords;
    const sequence = one.sequenceWords;
    const parent = this.parent;
    const key = wordsKey(sequence[0]!, sequence[1]!);
    let s = this.slots.get(key);
    if (s !== NONE) {
      // Same content already cached (another sequence got there first): share it.
      this.use(s);
    } else {
      const last = seq.held.length ? seq.held.at(-1)! : NONE;
      s = this.take(local[0]!, local[1]!, sequence[0]!, sequence[1]!, key, last === NONE ? -1 : this.keyAt(last));
      if (this.sink) {
        if (last !== NONE) {
          parent[0] = this.words[4 * last + 2]!;
          parent[1] = this.words[4 * last + 3]!;
        }
        this.sink.stored(last === NONE ? undefined : parent, local, sequence, 0, 1);
      }
    }
    seq.held.push(s);
  }

  /** Releases a sequence's blocks, tail first (deepest blocks become the first to evict). */
  free(seq: SequenceBlocks): void {
    this.privateBlocks -= seq.partial;
    seq.partial = 0;
    const held = seq.held;
    for (let i = held.length - 1; i >= 0; i--) {
      const s = held[i]!;
      if (--this.refs[s]! === 0) {
        this.activeFull--;
        this.pushInactive(s);
      }
    }
    seq.held = [];
    this.releases++;
  }

  /** Drops every cached block nobody uses (like vLLM's reset_prefix_cache). */
  clearInactive(): void {
    for (let s = this.oldest; s !== NONE; s = this.next[s]!) this.drop(s);
    this.oldest = this.newest = NONE;
    this.inactiveCount = 0;
    this.releases++;
    this.sink?.cleared();
  }

  /**
   * Every cached block reachable from the root, parents before children: the state a router
   * rebuilds from after it lost events. (A block whose parent was evicted cannot be matched.)
   */
  snapshot(): KvEventData[] {
    const out: KvEventData[] = [];
    const done = new Map<number, boolean>();
    const visit = (s: number): boolean => {
      const key = this.keyAt(s);
      let ok = done.get(key);
      if (ok !== undefined) return ok;
      const pk = this.parentKey[s]!;
      const ps = pk < 0 ? NONE : this.slots.get(pk);
      ok = pk < 0 || (ps !== NONE && visit(ps));
      done.set(key, ok);
      if (ok) {
        const blockHash = this.sequenceHash(s);
        const tokensHash = wordsHash(this.words[4 * s]!, this.words[4 * s + 1]!);
        out.push({type: 'stored', ...(ps !== NONE && pk >= 0 ? {parentHash: this.sequenceHash(ps)} : {}), blocks: [{blockHash, tokensHash}]});
      }
      return ok;
    };
    for (const s of this.slots.values()) visit(s);
    return out;
  }

  /** Eviction order of inactive blocks (oldest first), for tests and debugging. */
  evictionOrder(): bigint[] {
    const out: bigint[] = [];
    for (let s = this.oldest; s !== NONE; s = this.next[s]!) out.push(this.sequenceHash(s));
    return out;
  }
}
