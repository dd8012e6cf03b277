/**
 * Approximate mode's bookkeeping (kv-router.ts): which blocks the router assumes each worker holds,
 * and until when. Lapsed predictions come off a queue in expiry order instead of a scan of every
 * prediction each second: an expiry is `now + ttl` on a clock that does not run backwards, so the
 * queue (one entry per routed request: its worker, expiry and predictions) is in expiry order as
 * pushed. Refreshing a prediction queues it again; the older entry, whose expiry no longer
 * matches, is skipped when it comes off. Entries name their predictions by record and generation
 * (a record is reused once taken), so nothing is looked up by key when they come off.
 * Removal lists name each block after its descendants (Taken); `order` (when a block was first
 * predicted) breaks ties when the oldest predictions are pruned.
 * Each prediction is a record in typed arrays (expiry, depth, order), not an object: a replay
 * makes millions of them.
 */
import {SlotTable} from '../shared/slot-table.js';
import type {BlockList} from '../kv/block-list.js';
import type {HashKey} from './prefix-index.js';

interface WorkerPredictions {
  name: string;
  order: number;
  /** Block key → its prediction record. */
  table: SlotTable;
}

/** Blocks to take out of the index: per worker, engine ids (sequence hashes as 32-bit words, low then high) deepest first. */
export type Removals = {worker: string; sequence: Uint32Array}[];

/** No record. */
const NONE = -1;

export class Predictions {
  private readonly workers = new Map<string, WorkerPredictions>();
  /** Every prediction made, oldest first from `head`: per routed request, its worker, expiry and records (`queued`[at … at + 2n): record, generation). */
  private queue: {w: WorkerPredictions; at: number; n: number; expiry: number}[] = [];
  private head = 0;
  private queued = new Int32Array(1 << 16);
  private queuedEnd = 0;
  private nextOrder = 0;
  // Per record: the block's key, expiry, depth in its request, when first predicted (a refresh keeps
  // it, as Map.set keeps a key's position), and the request's blocks (its id in the index is the
  // sequence hash at `depth`: kept as the request's list, no BigInt per block). Free records are
  // linked through `nextFree`.
  private key = new Float64Array(1024);
  private expiry = new Float64Array(1024);
  private depth = new Int32Array(1024);
  private order = new Float64Array(1024);
  private nextFree = new Int32Array(1024);
  /** Bumped when a record is freed: a queue entry naming an older generation is stale. */
  private generation = new Int32Array(1024);
  private blocks: (BlockList | undefined)[] = [];
  private freeRecords = NONE;
  private usedRecords = 0;
  /** Predictions held, over all workers. */
  count = 0;

  size(worker: string): number {
    return this.workers.get(worker)?.table.size ?? 0;
  }

  removeWorker(worker: string): void {
    const w = this.workers.get(worker);
    if (!w) return;
    for (const r of w.table.values()) this.release(r);
    this.count -= w.table.size;
    this.workers.delete(worker);
  }

  /** The record the next new prediction takes. */
  private nextRecord(): number {
    if (this.freeRecords !== NONE) return this.freeRecords;
    if (this.usedRecords === this.key.length) this.grow();
    return this.usedRecords;
  }

  /** Takes record `r` (nextRecord()) for a new prediction. */
  private record(r: number, key: HashKey, expiry: number, depth: number, blocks: BlockList): void {
    if (r === this.freeRecords) this.freeRecords = this.nextFree[r]!;
    else this.usedRecords++;
    this.key[r] = key;
    this.expiry[r] = expiry;
    this.depth[r] = depth;
    this.order[r] = this.nextOrder++;
    this.blocks[r] = blocks;
  }

  private release(r: number): void {
    this.blocks[r] = undefined;
    this.generation[r]!++;
    this.nextFree[r] = this.freeRecords;
    this.freeRecords = r;
  }

  private grow(): void {
    const n = 2 * this.key.length;
    const grown = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const out = make(n);
      out.set(a);
      return out;
    };
    const f64 = (k: number) => new Float64Array(k);
    this.key = grown(this.key, f64);
    this.expiry = grown(this.expiry, f64);
    this.order = grown(this.order, f64);
    this.depth = grown(this.depth, (k) => new Int32Array(k));
    this.nextFree = grown(this.nextFree, (k) => new Int32Array(k));
    this.generation = grown(this.generation, (k) => new Int32Array(k));
  }

  /** Every block of `blocks` (block i at depth i) is held by `worker` until `expiry`. */
  add(worker: string, blocks: BlockList, expiry: number): void {
    const keys = blocks.keys;
    let w = this.workers.get(worker);
    if (!w) this.workers.set(worker, (w = {name: worker, order: this.nextOrder++, table: new SlotTable()}));
    if (!keys.length) return;
    const at = this.queueRoom(2 * keys.length);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const fresh = this.nextRecord();
      let r = w.table.getOrSet(key, fresh);
      if (r !== NONE) {
        this.expiry[r] = expiry;
        this.depth[r] = i;
        this.blocks[r] = blocks;
      } else {
        this.record((r = fresh), key, expiry, i, blocks);
        this.count++;
      }
      this.queued[at + 2 * i] = r;
      this.queued[at + 2 * i + 1] = this.generation[r]!;
    }
    this.queue.push({w, at, n: keys.length, expiry});
  }

  /** Where `n` more queued words go (the queue's words grow as needed). */
  private queueRoom(n: number): number {
    if (this.queuedEnd + n > this.queued.length) {
      const grown = new Int32Array(Math.max(2 * this.queued.length, this.queuedEnd + n));
      grown.set(this.queued.subarray(0, this.queuedEnd));
      this.queued = grown;
    }
    const at = this.queuedEnd;
    this.queuedEnd += n;
    return at;
  }

  /** Takes every prediction whose expiry is at or before `now`. */
  takeLapsed(now: number): Removals {
    const taken = new Taken();
    while (this.head < this.queue.length && this.queue[this.head]!.expiry <= now) {
      const {w, at, n, expiry} = this.queue[this.head]!;
      if (this.workers.get(w.name) === w) {
        const words = taken.of(w);
        const {queued, generation} = this;
        // Deepest first: a block goes after its descendants (see Taken).
        for (let i = at + 2 * (n - 1); i >= at; i -= 2) {
          const r = queued[i]!;
          // Skipped: taken already (the record was freed) or refreshed since (a later entry stands for it).
          if (generation[r] !== queued[i + 1] || this.expiry[r] !== expiry) continue;
          w.table.delete(this.key[r]!);
          this.count--;
          this.take(words, r);
        }
      }
      this.head++;
    }
    this.compact();
    return taken.removals();
  }

  /** Takes all but `keep` predictions: earliest expiry first, deeper blocks first on ties. */
  takeOldest(keep: number): Removals {
    const all: {w: WorkerPredictions; r: number}[] = [];
    for (const w of this.workers.values()) for (const r of w.table.values()) all.push({w, r});
    const {expiry, depth, order} = this;
    all.sort((a, b) => expiry[a.r]! - expiry[b.r]! || depth[b.r]! - depth[a.r]! || a.w.order - b.w.order || order[a.r]! - order[b.r]!);
    const taken = new Taken();
    for (const {w, r} of all.slice(0, Math.max(0, all.length - keep))) {
      w.table.delete(this.key[r]!);
      this.count--;
      this.take(taken.of(w), r);
    }
    return taken.removals();
  }

  /** Moves record `r`'s sequence hash onto a removal list (Taken.of) and frees the record. */
  private take(removal: number[], r: number): void {
    const d = this.depth[r]!;
    const words = this.blocks[r]!.sequenceWords;
    removal.push(words[2 * d]!, words[2 * d + 1]!);
    this.release(r);
  }

  /** Drops the queue's consumed front once it is most of the queue. */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.queue.length) return;
    this.queue = this.queue.slice(this.head);
    this.head = 0;
    const from = this.queue.length ? this.queue[0]!.at : this.queuedEnd;
    this.queued.copyWithin(0, from, this.queuedEnd);
    this.queuedEnd -= from;
    for (const e of this.queue) e.at -= from;
  }
}

/**
 * Predictions taken at once, per worker in the order taken. Callers take a block's descendants
 * before it (a lapsed entry's blocks deepest first; the oldest by expiry, deeper first on ties), and
 * a lapsed set holds every descendant of its blocks (a parent's expiry is never before its child's:
 * every prediction covers its whole chain from the root), so each removal list leaves whole chains.
 */
class Taken {
  private readonly perWorker = new Map<WorkerPredictions, number[]>();

  /** Worker `w`'s removal list (sequence-hash words, low then high), to push onto. */
  of(w: WorkerPredictions): number[] {
    let words = this.perWorker.get(w);
    if (!words) this.perWorker.set(w, (words = []));
    return words;
  }

  /** Per worker, in the order workers were first seen. */
  removals(): Removals {
    return [...this.perWorker]
      .sort(([a], [b]) => a.order - b.order)
      .map(([w, words]) => ({worker: w.name, sequence: Uint32Array.from(words)}));
  }
}
