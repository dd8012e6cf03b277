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
 * The manager keeps its state per slot in arrays (ref counts, eviction links, the block and its
 * parent) rather than an object per cached block: a replay caches millions of blocks, and objects
 * by the million cost the garbage collector more than the simulation.
 */
import {type BlockHasher, hashKey} from '../../kv/block-hasher.js';
import {type KvEventData, type KvEventSink, eventObjects} from '../../kv/events.js';
import {SlotTable} from './slot-table.js';

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

/** Blocks one sequence holds. */
export interface SequenceBlocks {
  blocks: Block[];
  /** 1 when the sequence holds a private, partly filled block. */
  partial: number;
  /**
   * The slots of `blocks`, in order, as allocate() and promote() took them: free() needs no
   * lookups (a held block stays in its slot: only blocks nobody uses are evicted or dropped).
   */
  held?: number[];
}

/** No slot (the end of the eviction list). */
const NONE = -1;

const CHUNK_BITS = 15;

/**
 * A reference per slot, in chunks of 32 Ki: one JS array of millions of entries (unbounded caches
 * have 4 M slots) takes the engine's slow paths, and growing it costs more than the simulation.
 */
class SlotRefs<T> {
  private readonly chunks: (T | undefined)[][] = [];

  get(s: number): T | undefined {
    return this.chunks[s >>> CHUNK_BITS]?.[s & ((1 << CHUNK_BITS) - 1)];
  }

  set(s: number, v: T | undefined): void {
    let c = this.chunks[s >>> CHUNK_BITS];
    if (!c) this.chunks[s >>> CHUNK_BITS] = c = new Array<T | undefined>(1 << CHUNK_BITS).fill(undefined);
    c[s & ((1 << CHUNK_BITS) - 1)] = v;
  }
}

export class KvBlockManager {
  /** Block key → the slot its cached block sits in. */
  private readonly slots: SlotTable;
  // Per slot, while a block is cached there (the arrays grow as slots are first used):
  private refs = new Int32Array(0);
  /** Links in the eviction list while inactive (refs = 0). */
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  /** Its parent's key, -1 for none (snapshot() finds the parent by it: it is published only while cached). */
  private parentKey = new Float64Array(0);
  private readonly block = new SlotRefs<Block>();
  /** Inactive blocks (no users) as a list through prev/next, oldest release first = eviction order. */
  private oldest = NONE;
  private newest = NONE;
  private inactiveCount = 0;
  private privateBlocks = 0;
  private activeFull = 0;
  /** allocate()'s per-block lookups (a slot or NONE), reused; entries past the prompt are stale. */
  private readonly scratch: number[] = [];
  /** Hears every change to the cached set; without one, no event is even built. */
  private readonly sink: KvEventSink | undefined;
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
    /** Hears every change to the cached set: events as objects, or as calls (a KvEventSink). */
    onEvent?: ((e: KvEventData) => void) | KvEventSink,
  ) {
    this.sink = typeof onEvent === 'function' ? eventObjects(onEvent) : onEvent;
    // Sized for every slot up to 128 Ki blocks (rehashing a growing table costs more than a replay's lookups).
    this.slots = new SlotTable(Math.min(totalBlocks, 1 << 17));
  }

  /** A free slot, now holding `b` (under `parent`) with one user. */
  private take(b: Block, parent: Block | undefined): number {
    let s = this.releasedSlots.pop();
    if (s === undefined) {
      s = this.neverUsed++;
      if (s >= this.refs.length) this.growSlots(s + 1);
    }
    this.refs[s] = 1;
    this.block.set(s, b);
    this.parentKey[s] = parent ? parent.key : -1;
    this.slots.set(b.key, s);
    this.activeFull++;
    return s;
  }

  private growSlots(min: number): void {
    const n = Math.max(min, Math.min(this.totalBlocks, Math.max(2 * this.refs.length, 1024)));
    const grown = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const out = make(n);
      out.set(a);
      return out;
    };
    const int32 = (k: number) => new Int32Array(k);
    this.refs = grown(this.refs, int32);
    this.prev = grown(this.prev, int32);
    this.next = grown(this.next, int32);
    this.parentKey = grown(this.parentKey, (k) => new Float64Array(k));
  }

  /** The slot of a cached block; undefined when it is not cached. */
  slotOf(block: Block): number | undefined {
    const s = this.slots.get(block.key);
    return s === NONE ? undefined : s;
  }

  /**
   * Forgets cached blocks nobody uses (their bytes turned out wrong: a failed KV transfer), as
   * evictions. Blocks in use are left alone.
   */
  discard(blocks: readonly Block[]): void {
    const gone: Block[] = [];
    for (const b of blocks) {
      const s = this.slots.get(b.key);
      if (s === NONE || this.refs[s]! > 0) continue;
      this.unlinkInactive(s);
      this.drop(s);
      gone.push(b);
    }
    if (gone.length) this.sink?.removed(gone);
  }

  private drop(s: number): void {
    this.slots.delete(this.block.get(s)!.key);
    this.block.set(s, undefined);
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
  cachedPrefix(blocks: readonly Block[]): number {
    let n = 0;
    while (n < blocks.length && this.slots.has(blocks[n]!.key)) n++;
    return n;
  }

  /** Evicts inactive blocks until `n` blocks are free; false when not possible. */
  private makeRoom(n: number): boolean {
    if (this.freeBlocks >= n) return true;
    if (this.freeBlocks + this.inactiveCount < n) return false;
    const evicted: Block[] = [];
    while (this.freeBlocks < n && this.oldest !== NONE) {
      const s = this.oldest;
      this.unlinkInactive(s);
      if (this.sink) evicted.push(this.block.get(s)!);
      this.drop(s);
    }
    if (evicted.length) this.sink?.removed(evicted);
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
    let hit = -1;
    let fresh = 0;
    let revivable = 0;
    for (let i = 0; i < blocks.length; i++) {
      const s = this.slots.get(blocks[i]!.key);
      found[i] = s;
      if (s === NONE) {
        fresh++;
        if (hit < 0) hit = i;
      } else if (this.refs[s] === 0) revivable++;
    }
    if (hit < 0) hit = blocks.length;
    if (fresh + partial > this.freeBlocks + this.inactiveCount - revivable) return -1;
    for (let i = 0; i < blocks.length; i++) if (found[i] !== NONE) this.use(found[i]!);
    this.makeRoom(fresh + partial);
    // New blocks are published in runs, each under its parent: blocks[runFrom … i).
    const held = new Array<number>(blocks.length);
    let runFrom = -1;
    for (let i = 0; i < blocks.length; i++) {
      if (found[i] !== NONE) {
        held[i] = found[i]!; // taken above
        if (runFrom >= 0) this.sink?.stored(runFrom ? blocks[runFrom - 1] : undefined, blocks, runFrom, i);
        runFrom = -1;
        continue;
      }
      held[i] = this.take(blocks[i]!, i ? blocks[i - 1] : undefined);
      if (runFrom < 0) runFrom = i;
    }
    if (runFrom >= 0) this.sink?.stored(runFrom ? blocks[runFrom - 1] : undefined, blocks, runFrom, blocks.length);
    seq.blocks = blocks.slice();
    seq.held = held;
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
    let s = this.slots.get(block.key);
    if (s !== NONE) {
      // Same content already cached (another sequence got there first): share it.
      this.use(s);
    } else {
      const parent = seq.blocks.at(-1);
      s = this.take(block, parent);
      this.sink?.stored(parent, [block], 0, 1);
    }
    seq.blocks.push(block);
    seq.held?.push(s);
  }

  /** Releases a sequence's blocks, tail first (deepest blocks become the first to evict). */
  free(seq: SequenceBlocks): void {
    this.privateBlocks -= seq.partial;
    seq.partial = 0;
    const held = seq.held?.length === seq.blocks.length ? seq.held : undefined;
    for (let i = seq.blocks.length - 1; i >= 0; i--) {
      const s = held ? held[i]! : this.slots.get(seq.blocks[i]!.key);
      if (s === NONE) continue;
      if (--this.refs[s]! === 0) {
        this.activeFull--;
        this.pushInactive(s);
      }
    }
    seq.blocks = [];
    seq.held = undefined;
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
      const b = this.block.get(s)!;
      let ok = done.get(b.key);
      if (ok !== undefined) return ok;
      const pk = this.parentKey[s]!;
      const ps = pk < 0 ? NONE : this.slots.get(pk);
      const parent = ps === NONE ? undefined : this.block.get(ps);
      ok = pk < 0 || (ps !== NONE && visit(ps));
      done.set(b.key, ok);
      if (ok) out.push({type: 'stored', ...(parent ? {parentHash: parent.seq} : {}), blocks: [{blockHash: b.seq, tokensHash: b.local}]});
      return ok;
    };
    for (const s of this.slots.values()) visit(s);
    return out;
  }

  /** Eviction order of inactive blocks (oldest first), for tests and debugging. */
  evictionOrder(): bigint[] {
    const out: bigint[] = [];
    for (let s = this.oldest; s !== NONE; s = this.next[s]!) out.push(this.block.get(s)!.seq);
    return out;
  }
}
