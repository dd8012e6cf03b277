/**
 * Approximate mode's bookkeeping (kv-router.ts): which blocks the router assumes each worker holds,
 * and until when. Lapsed predictions come off a queue in expiry order instead of a scan of every
 * prediction each second: an expiry is `now + ttl` on a clock that does not run backwards, so the
 * queue (one entry per routed request: its worker, block keys and expiry) is in expiry order as
 * pushed. Refreshing a prediction queues it again; the older entry, whose expiry no longer
 * matches, is skipped when it comes off.
 * Removal lists keep the order a scan of insertion-ordered Maps gave: per worker, deepest block
 * first, then oldest prediction first (the `order` fields stand in for the Maps' insertion order).
 */
import {KeyTable} from '../shared/key-table.js';
import type {HashKey} from './prefix-index.js';

interface Predicted {
  key: HashKey;
  expiry: number;
  depth: number;
  /** The block's sequence hash (its id in the index) is seqs[depth] (kept as the request's array: no BigInt per block). */
  seqs: ArrayLike<bigint>;
  /** When it was first predicted (a refresh keeps it, as Map.set keeps a key's position). */
  order: number;
}

interface WorkerPredictions {
  name: string;
  order: number;
  table: KeyTable<Predicted>;
}

/** Blocks to take out of the index: per worker, engine ids deepest first. */
export type Removals = {worker: string; seqs: bigint[]}[];

export class Predictions {
  private readonly workers = new Map<string, WorkerPredictions>();
  /** Every prediction made, oldest first from `head`: per routed request, its worker, keys and expiry. */
  private queue: {w: WorkerPredictions; keys: ArrayLike<HashKey>; expiry: number}[] = [];
  private head = 0;
  private nextOrder = 0;
  /** Predictions held, over all workers. */
  count = 0;

  size(worker: string): number {
    return this.workers.get(worker)?.table.size ?? 0;
  }

  removeWorker(worker: string): void {
    this.count -= this.size(worker);
    this.workers.delete(worker);
  }

  /** `keys[i]` (engine id `seqs[i]`, at depth i) is held by `worker` until `expiry`. */
  add(worker: string, keys: ArrayLike<HashKey>, seqs: ArrayLike<bigint>, expiry: number): void {
    let w = this.workers.get(worker);
    if (!w) this.workers.set(worker, (w = {name: worker, order: this.nextOrder++, table: new KeyTable()}));
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const p = w.table.get(key);
      if (p) {
        p.expiry = expiry;
        p.depth = i;
        p.seqs = seqs;
      } else {
        w.table.set(key, {key, expiry, depth: i, seqs, order: this.nextOrder++});
        this.count++;
      }
    }
    if (keys.length) this.queue.push({w, keys, expiry});
  }

  /** Takes every prediction whose expiry is at or before `now`. */
  takeLapsed(now: number): Removals {
    const taken: {w: WorkerPredictions; p: Predicted}[] = [];
    while (this.head < this.queue.length && this.queue[this.head]!.expiry <= now) {
      const {w, keys, expiry} = this.queue[this.head]!;
      if (this.workers.get(w.name) === w) {
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const p = w.table.get(key);
          // Skipped: refreshed since (a later entry stands for it) or taken already.
          if (!p || p.expiry !== expiry) continue;
          w.table.delete(key);
          this.count--;
          taken.push({w, p});
        }
      }
      this.head++;
    }
    this.compact();
    return this.removals(taken);
  }

  /** Takes all but `keep` predictions: earliest expiry first, deeper blocks first on ties. */
  takeOldest(keep: number): Removals {
    const all: {w: WorkerPredictions; p: Predicted}[] = [];
    for (const w of this.workers.values()) for (const p of w.table.values()) all.push({w, p});
    all.sort((a, b) => a.p.expiry - b.p.expiry || b.p.depth - a.p.depth || a.w.order - b.w.order || a.p.order - b.p.order);
    const taken = all.slice(0, Math.max(0, all.length - keep));
    for (const {w, p} of taken) w.table.delete(p.key);
    this.count -= taken.length;
    return this.removals(taken);
  }

  private removals(taken: {w: WorkerPredictions; p: Predicted}[]): Removals {
    taken.sort((a, b) => a.w.order - b.w.order || b.p.depth - a.p.depth || a.p.order - b.p.order);
    const out: Removals = [];
    for (const {w, p} of taken) {
      if (out.at(-1)?.worker !== w.name) out.push({worker: w.name, seqs: []});
      out.at(-1)!.seqs.push(p.seqs[p.depth]!);
    }
    return out;
  }

  /** Drops the queue's consumed front once it is most of the queue. */
  private compact(): void {
    if (this.head < 1024 || this.head * 2 < this.queue.length) return;
    this.queue = this.queue.slice(this.head);
    this.head = 0;
  }
}
