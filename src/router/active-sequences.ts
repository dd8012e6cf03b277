/**
 * What each worker is busy with, from the router's own bookkeeping (Dynamo sequences/*):
 * - pending prefill tokens: prompt tokens of requests routed there that have no first token yet;
 * - active blocks: unique block sequence hashes held by its in-flight requests (ref-counted, so a
 *   prefix shared by two requests counts once).
 * add() at routing, prefillDone() at the first token, free() at the end of the stream.
 * Blocks are indexed block → holders (a short list: a block is rarely active on many workers), so
 * a request's shared blocks on every worker come from one pass over its blocks.
 */
import {KeyTable} from '../shared/key-table.js';
import type {HashKey} from './prefix-index.js';

/** One worker's hold on one block, linked to the next worker holding it. */
interface Hold {
  worker: string;
  count: number;
  next: Hold | undefined;
}

interface Entry {
  worker: string;
  blocks: readonly HashKey[];
  prefillTokens: number;
}

interface WorkerLoad {
  prefillTokens: number;
  /** Unique active blocks. */
  blocks: number;
}

export class ActiveSequences {
  private readonly requests = new Map<string, Entry>();
  private readonly workers = new Map<string, WorkerLoad>();
  /** Block → the workers whose in-flight requests hold it, with how many. */
  private readonly holders = new KeyTable<Hold>();

  private load(worker: string): WorkerLoad {
    let l = this.workers.get(worker);
    if (!l) this.workers.set(worker, (l = {prefillTokens: 0, blocks: 0}));
    return l;
  }

  add(requestId: string, worker: string, blocks: readonly HashKey[], prefillTokens: number): void {
    const l = this.load(worker);
    l.prefillTokens += prefillTokens;
    for (const b of blocks) {
      const first = this.holders.get(b);
      let h = first;
      while (h && h.worker !== worker) h = h.next;
      if (h) h.count++;
      else {
        l.blocks++;
        this.holders.set(b, {worker, count: 1, next: first});
      }
    }
    this.requests.set(requestId, {worker, blocks, prefillTokens});
  }

  prefillDone(requestId: string): void {
    const e = this.requests.get(requestId);
    if (!e?.prefillTokens) return;
    this.load(e.worker).prefillTokens -= e.prefillTokens;
    e.prefillTokens = 0;
  }

  free(requestId: string): void {
    const e = this.requests.get(requestId);
    if (!e) return;
    this.prefillDone(requestId);
    const l = this.load(e.worker);
    for (const b of e.blocks) {
      let prev: Hold | undefined;
      let h = this.holders.get(b);
      while (h && h.worker !== e.worker) {
        prev = h;
        h = h.next;
      }
      if (!h || --h.count > 0) continue;
      l.blocks--;
      if (prev) prev.next = h.next;
      else if (h.next) this.holders.set(b, h.next);
      else this.holders.delete(b);
    }
    this.requests.delete(requestId);
  }

  pendingPrefillTokens(worker: string): number {
    return this.workers.get(worker)?.prefillTokens ?? 0;
  }

  activeBlocks(worker: string): number {
    return this.workers.get(worker)?.blocks ?? 0;
  }

  /** For every worker holding some of them: how many of `blocks` it already has active. */
  sharedBlocks(blocks: readonly HashKey[]): Map<string, number> {
    // Counted in two short arrays (a handful of workers), not a Map update per holder.
    const workers: string[] = [];
    const counts: number[] = [];
    for (const b of blocks) {
      for (let h = this.holders.get(b); h; h = h.next) {
        const k = workers.indexOf(h.worker);
        if (k >= 0) counts[k]!++;
        else {
          workers.push(h.worker);
          counts.push(1);
        }
      }
    }
    return new Map(workers.map((w, k) => [w, counts[k]!]));
  }

  get inFlight(): number {
    return this.requests.size;
  }
}
