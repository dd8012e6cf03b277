/**
 * What each worker is busy with, from the router's own bookkeeping (Dynamo sequences/*):
 * - pending prefill tokens: prompt tokens of requests routed there that have no first token yet;
 * - active blocks: unique block sequence hashes held by its in-flight requests (ref-counted, so a
 *   prefix shared by two requests counts once).
 * add() at routing, prefillDone() at the first token, free() at the end of the stream.
 */
import type {HashKey} from './prefix-index.js';

interface Entry {
  worker: string;
  blocks: readonly HashKey[];
  prefillTokens: number;
}

interface WorkerLoad {
  prefillTokens: number;
  blocks: Map<HashKey, number>;
}

export class ActiveSequences {
  private readonly requests = new Map<string, Entry>();
  private readonly workers = new Map<string, WorkerLoad>();

  private load(worker: string): WorkerLoad {
    let l = this.workers.get(worker);
    if (!l) this.workers.set(worker, (l = {prefillTokens: 0, blocks: new Map()}));
    return l;
  }

  add(requestId: string, worker: string, blocks: readonly HashKey[], prefillTokens: number): void {
    const l = this.load(worker);
    l.prefillTokens += prefillTokens;
    for (const b of blocks) l.blocks.set(b, (l.blocks.get(b) ?? 0) + 1);
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
      const n = (l.blocks.get(b) ?? 1) - 1;
      if (n <= 0) l.blocks.delete(b);
      else l.blocks.set(b, n);
    }
    this.requests.delete(requestId);
  }

  pendingPrefillTokens(worker: string): number {
    return this.workers.get(worker)?.prefillTokens ?? 0;
  }

  activeBlocks(worker: string): number {
    return this.workers.get(worker)?.blocks.size ?? 0;
  }

  /** The request's blocks that are not active on the worker yet. */
  newBlocks(worker: string, blocks: readonly HashKey[]): number {
    const active = this.workers.get(worker)?.blocks;
    if (!active) return blocks.length;
    let n = 0;
    for (const b of blocks) if (!active.has(b)) n++;
    return n;
  }

  get inFlight(): number {
    return this.requests.size;
  }
}
