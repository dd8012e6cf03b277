/**
 * What each worker is busy with, from the router's own bookkeeping (Dynamo sequences/*):
 * - pending prefill tokens: prompt tokens of requests routed there that have no first token yet;
 * - active blocks: unique block sequence hashes held by its in-flight requests (ref-counted, so a
 *   prefix shared by two requests counts once).
 * add() at routing, prefillDone() at the first token, free() at the end of the stream.
 * Blocks are indexed block → holders, so a request's new blocks on every worker come from one
 * pass over its blocks rather than one per worker.
 */
import type {HashKey} from './prefix-index.js';

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
  /** Block → worker → how many of its in-flight requests hold it. */
  private readonly holders = new Map<HashKey, Map<string, number>>();

  private load(worker: string): WorkerLoad {
    let l = this.workers.get(worker);
    if (!l) this.workers.set(worker, (l = {prefillTokens: 0, blocks: 0}));
    return l;
  }

  add(requestId: string, worker: string, blocks: readonly HashKey[], prefillTokens: number): void {
    const l = this.load(worker);
    l.prefillTokens += prefillTokens;
    for (const b of blocks) {
      let h = this.holders.get(b);
      if (!h) this.holders.set(b, (h = new Map()));
      const n = h.get(worker) ?? 0;
      if (!n) l.blocks++;
      h.set(worker, n + 1);
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
      const h = this.holders.get(b);
      const n = h?.get(e.worker);
      if (!h || n === undefined) continue;
      if (n > 1) h.set(e.worker, n - 1);
      else {
        l.blocks--;
        h.delete(e.worker);
        if (!h.size) this.holders.delete(b);
      }
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
    const shared = new Map<string, number>();
    for (const b of blocks) {
      const h = this.holders.get(b);
      if (h) for (const w of h.keys()) shared.set(w, (shared.get(w) ?? 0) + 1);
    }
    return shared;
  }

  get inFlight(): number {
    return this.requests.size;
  }
}
