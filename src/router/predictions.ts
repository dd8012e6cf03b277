/**
 * Approximate mode's bookkeeping (kv-router.ts): which blocks the router assumes each worker holds,
 * and until when. Lapsed predictions come off a queue in expiry order instead of a scan of every
 * prediction each second: an expiry is `now + ttl` on a clock that does not run backwards, so the
 * queue (one entry per routed request: its worker, block keys and expiry) is in expiry order as
 * pushed. Refreshing a prediction queues it again; the older entry, whose expiry no longer
 * matches, is skipped when it comes off.
 * Removal lists keep the order a scan of insertion-ordered Maps gave: per worker, deepest block
 * first, then oldest prediction first (the `order` fields stand in for the Maps' insertion order).
 * Each prediction is a record in typed arrays (expiry, depth, order), not an object: a replay
 * makes millions of them.
 */
import {SlotTable} from '../shared/slot-table.js';
import type {HashKey} from './prefix-index.js';

interface WorkerPredictions {
  name: string;
  order: number;
  /** Block key → its prediction record. */
  table: SlotTable;
}

/** Blocks to take out of the index: per worker, engine ids deepest first. */
export type Removals = {worker: string; seqs: bigint[]}[];

/** No record. */
const NONE = -1;

export class Predictions {
  private readonly workers = new Map<string, WorkerPredictions>();
  /** Every prediction made, oldest first from `head`: per routed request, its worker, keys and expiry. */
  private queue: {w: WorkerPredictions; keys: ArrayLike<HashKey>; expiry: number}[] = [];
  private head = 0;
  private nextOrder = 0;
  // Per record: the block's key, expiry, depth in its request, when first predicted (a refresh keeps
  // it, as Map.set keeps a key's position), and the request's sequence hashes (its id in the index
  // is seqs[depth]: kept as the request's array, no BigInt per block). Free records are linked
  // through `nextFree`.
  private key = new Float64Array(1024);
  private expiry = new Float64Array(1024);
  private depth = new Int32Array(1024);
  private order = new Float64Array(1024);
  private nextFree = new Int32Array(1024);
  private seqs: (ArrayLike<bigint> | undefined)[] = [];
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

  private record(key: HashKey, expiry: number, depth: number, seqs: ArrayLike<bigint>): number {
    let r = this.freeRecords;
    if (r !== NONE) this.freeRecords = this.nextFree[r]!;
    else {
      r = this.usedRecords++;
      if (r === this.key.length) this.grow();
    }
    this.key[r] = key;
    this.expiry[r] = expiry;
    this.depth[r] = depth;
    this.order[r] = this.nextOrder++;
    this.seqs[r] = seqs;
    return r;
  }

  private release(r: number): void {
    this.seqs[r] = undefined;
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
  }

  /** `keys[i]` (engine id `seqs[i]`, at depth i) is held by `worker` until `expiry`. */
  add(worker: string, keys: ArrayLike<HashKey>, seqs: ArrayLike<bigint>, expiry: number): void {
    let w = this.workers.get(worker);
    if (!w) this.workers.set(worker, (w = {name: worker, order: this.nextOrder++, table: new SlotTable()}));
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const r = w.table.get(key);
      if (r !== NONE) {
        this.expiry[r] = expiry;
        this.depth[r] = i;
        this.seqs[r] = seqs;
      } else {
        w.table.set(key, this.record(key, expiry, i, seqs));
        this.count++;
      }
    }
    if (keys.length) this.queue.push({w, keys, expiry});
  }

  /** Takes every prediction whose expiry is at or before `now`. */
  takeLapsed(now: number): Removals {
    const taken = new Taken();
    while (this.head < this.queue.length && this.queue[this.head]!.expiry <= now) {
      const {w, keys, expiry} = this.queue[this.head]!;
      if (this.workers.get(w.name) === w) {
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const r = w.table.get(key);
          // Skipped: refreshed since (a later entry stands for it) or taken already.
          if (r === NONE || this.expiry[r] !== expiry) continue;
          w.table.delete(key);
          this.count--;
          this.take(taken, w, r);
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
      this.take(taken, w, r);
    }
    return taken.removals();
  }

  /** Moves record `r` of worker `w` into `taken` and frees it. */
  private take(taken: Taken, w: WorkerPredictions, r: number): void {
    taken.add(w, this.depth[r]!, this.order[r]!, this.seqs[r]![this.depth[r]!]!);
    this.release(r);
  }

  /** Drops the queue's consumed front once it is most of the queue. */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.queue.length) return;
    this.queue = this.queue.slice(this.head);
    this.head = 0;
  }
}

/** Predictions taken at once, as parallel arrays, then ordered into removal lists. */
class Taken {
  private readonly workers: WorkerPredictions[] = [];
  private readonly depths: number[] = [];
  private readonly orders: number[] = [];
  private readonly seqs: bigint[] = [];

  add(w: WorkerPredictions, depth: number, order: number, seq: bigint): void {
    this.workers.push(w);
    this.depths.push(depth);
    this.orders.push(order);
    this.seqs.push(seq);
  }

  /** Per worker (in the order workers were first seen), deepest block first, then oldest prediction first. */
  removals(): Removals {
    const {workers, depths, orders, seqs} = this;
    const idx = Array.from(workers, (_, i) => i);
    idx.sort((a, b) => workers[a]!.order - workers[b]!.order || depths[b]! - depths[a]! || orders[a]! - orders[b]!);
    const out: Removals = [];
    for (const i of idx) {
      if (out.at(-1)?.worker !== workers[i]!.name) out.push({worker: workers[i]!.name, seqs: []});
      out.at(-1)!.seqs.push(seqs[i]!);
    }
    return out;
  }
}
