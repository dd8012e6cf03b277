/**
 * What each worker is busy with, from the router's own bookkeeping (Dynamo sequences/*):
 * - pending prefill tokens: prompt tokens of requests routed there that have no first token yet;
 * - active blocks: unique block sequence hashes held by its in-flight requests (ref-counted, so a
 *   prefix shared by two requests counts once).
 * add() at routing, prefillDone() at the first token, free() at the end of the stream.
 * Blocks are indexed block → holds (a short list: a block is rarely active on many workers), so a
 * request's shared blocks on every worker come from one pass over its blocks. The holds are records
 * in typed arrays (worker, count, next), not objects: a replay takes and releases millions of them,
 * and objects by the million cost the collector more than the bookkeeping.
 */
import {SlotTable} from '../shared/slot-table.js';
import type {HashKey} from './prefix-index.js';

interface Entry {
  worker: number;
  blocks: ArrayLike<HashKey>;
  prefillTokens: number;
}

/** No record (the end of a block's list of holds, or of the free list). */
const NONE = -1;

export class ActiveSequences {
  private readonly requests = new Map<string, Entry>();
  /** Workers by the index their holds name. */
  private readonly workerIndex = new Map<string, number>();
  private readonly workerNames: string[] = [];
  private readonly prefillTokens: number[] = [];
  /** Unique active blocks per worker. */
  private readonly uniqueBlocks: number[] = [];
  /** Block → its first hold. */
  private readonly heads = new SlotTable();
  // Hold records: one per (block, worker holding it), linked per block through `holdNext`.
  private holdWorker = new Int32Array(1024);
  private holdCount = new Int32Array(1024);
  private holdNext = new Int32Array(1024);
  private freeHolds = NONE;
  private usedHolds = 0;
  /** sharedBlocks()'s counts per worker index (all 0 between calls). */
  private shared = new Int32Array(16);

  private index(worker: string): number {
    let w = this.workerIndex.get(worker);
    if (w === undefined) {
      this.workerIndex.set(worker, (w = this.workerNames.length));
      this.workerNames.push(worker);
      this.prefillTokens.push(0);
      this.uniqueBlocks.push(0);
    }
    return w;
  }

  private newHold(worker: number, next: number): number {
    let h = this.freeHolds;
    if (h !== NONE) this.freeHolds = this.holdNext[h]!;
    else {
      h = this.usedHolds++;
      if (h === this.holdWorker.length) this.growHolds();
    }
    this.holdWorker[h] = worker;
    this.holdCount[h] = 1;
    this.holdNext[h] = next;
    return h;
  }

  private growHolds(): void {
    const grown = (a: Int32Array) => {
      const out = new Int32Array(a.length * 2);
      out.set(a);
      return out;
    };
    this.holdWorker = grown(this.holdWorker);
    this.holdCount = grown(this.holdCount);
    this.holdNext = grown(this.holdNext);
  }

  add(requestId: string, worker: string, blocks: ArrayLike<HashKey>, prefillTokens: number): void {
    const w = this.index(worker);
    this.prefillTokens[w]! += prefillTokens;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      const first = this.heads.get(b);
      let h = first;
      while (h !== NONE && this.holdWorker[h] !== w) h = this.holdNext[h]!;
      if (h !== NONE) this.holdCount[h]!++;
      else {
        this.uniqueBlocks[w]!++;
        this.heads.set(b, this.newHold(w, first));
      }
    }
    this.requests.set(requestId, {worker: w, blocks, prefillTokens});
  }

  prefillDone(requestId: string): void {
    const e = this.requests.get(requestId);
    if (!e?.prefillTokens) return;
    this.prefillTokens[e.worker]! -= e.prefillTokens;
    e.prefillTokens = 0;
  }

  free(requestId: string): void {
    const e = this.requests.get(requestId);
    if (!e) return;
    this.prefillDone(requestId);
    const w = e.worker;
    const blocks = e.blocks;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      let prev = NONE;
      let h = this.heads.get(b);
      while (h !== NONE && this.holdWorker[h] !== w) {
        prev = h;
        h = this.holdNext[h]!;
      }
      if (h === NONE || --this.holdCount[h]! > 0) continue;
      this.uniqueBlocks[w]!--;
      const next = this.holdNext[h]!;
      if (prev !== NONE) this.holdNext[prev] = next;
      else if (next !== NONE) this.heads.set(b, next);
      else this.heads.delete(b);
      this.holdNext[h] = this.freeHolds;
      this.freeHolds = h;
    }
    this.requests.delete(requestId);
  }

  pendingPrefillTokens(worker: string): number {
    const w = this.workerIndex.get(worker);
    return w === undefined ? 0 : this.prefillTokens[w]!;
  }

  activeBlocks(worker: string): number {
    const w = this.workerIndex.get(worker);
    return w === undefined ? 0 : this.uniqueBlocks[w]!;
  }

  /** For every worker holding some of them: how many of `blocks` it already has active. */
  sharedBlocks(blocks: ArrayLike<HashKey>): Map<string, number> {
    // Counted by worker index in a reused array (a handful of workers), not a Map update per hold.
    if (this.shared.length < this.workerNames.length) this.shared = new Int32Array(2 * this.workerNames.length);
    const counts = this.shared;
    for (let i = 0; i < blocks.length; i++) {
      for (let h = this.heads.get(blocks[i]!); h !== NONE; h = this.holdNext[h]!) counts[this.holdWorker[h]!]!++;
    }
    const out = new Map<string, number>();
    for (let w = 0; w < this.workerNames.length; w++) {
      if (counts[w]) out.set(this.workerNames[w]!, counts[w]!);
      counts[w] = 0;
    }
    return out;
  }

  get inFlight(): number {
    return this.requests.size;
  }
}
