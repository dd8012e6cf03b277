/**
 * Which worker holds which block sequence, fed by KV events (Dynamo's RadixTree, lib/kv-router):
 * - nodes are keyed by the block's *local* hash under their parent, and carry the set of workers
 *   holding that block; each worker also maps its *sequence* (external) hashes to nodes, which is
 *   how `stored` events find their parent and `removed` events find their block;
 * - `findMatches(localHashes)` walks from the root, and a worker's overlap is the depth at which it
 *   drops out of the intersection.
 * Hashes are JS numbers here (53-bit keys; use `hashKey` for 64-bit values) so every lookup is a
 * fast Map access. Worker ids are interned to small integers.
 */
export type HashKey = number;

interface Node {
  key: HashKey;
  parent: Node | undefined;
  children: Map<HashKey, Node> | undefined;
  workers: Set<number>;
}

export interface StoredBlock {
  local: HashKey;
  /** The engine's (external) hash of the block, used as its id in later events. */
  seq: HashKey;
}

export type EventStatus = 'ok' | 'parent_block_not_found' | 'block_not_found';

export interface OverlapScores {
  /** Worker id → number of leading request blocks it holds. */
  scores: Map<string, number>;
  /** Worker id → blocks it holds in total. */
  treeSizes: Map<string, number>;
}

export class PrefixIndex {
  private readonly root: Node = {key: 0, parent: undefined, children: new Map(), workers: new Set()};
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly lookup: Map<HashKey, Node>[] = [];

  private workerIndex(worker: string): number {
    let i = this.ids.get(worker);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(worker, i);
      this.names.push(worker);
      this.lookup.push(new Map());
    }
    return i;
  }

  /** A `stored` event: blocks appended after `parentSeq` (undefined = from the root). */
  store(worker: string, parentSeq: HashKey | undefined, blocks: readonly StoredBlock[]): EventStatus {
    const w = this.workerIndex(worker);
    const own = this.lookup[w]!;
    let node = this.root;
    if (parentSeq !== undefined) {
      const p = own.get(parentSeq);
      if (!p) return 'parent_block_not_found';
      node = p;
    }
    for (const b of blocks) {
      node.children ??= new Map();
      let child = node.children.get(b.local);
      if (!child) {
        child = {key: b.local, parent: node, children: undefined, workers: new Set()};
        node.children.set(b.local, child);
      }
      child.workers.add(w);
      own.set(b.seq, child);
      node = child;
    }
    return 'ok';
  }

  /** A `removed` event. */
  remove(worker: string, seqs: readonly HashKey[]): EventStatus {
    const w = this.ids.get(worker);
    if (w === undefined) return 'block_not_found';
    const own = this.lookup[w]!;
    let status: EventStatus = 'ok';
    for (const s of seqs) {
      const node = own.get(s);
      if (!node) {
        status = 'block_not_found';
        continue;
      }
      own.delete(s);
      node.workers.delete(w);
      this.prune(node);
    }
    return status;
  }

  /** A `cleared` event, or the worker left: forget everything it held. */
  clear(worker: string): void {
    const w = this.ids.get(worker);
    if (w === undefined) return;
    const own = this.lookup[w]!;
    for (const node of own.values()) {
      node.workers.delete(w);
      this.prune(node);
    }
    own.clear();
  }

  /** Drops nodes nobody holds and that lead nowhere, upwards. */
  private prune(node: Node): void {
    let n: Node | undefined = node;
    while (n && n !== this.root && n.workers.size === 0 && !n.children?.size) {
      n.parent!.children!.delete(n.key);
      n = n.parent;
    }
  }

  treeSize(worker: string): number {
    const w = this.ids.get(worker);
    return w === undefined ? 0 : this.lookup[w]!.size;
  }

  findMatches(locals: readonly HashKey[]): OverlapScores {
    const scores = new Map<string, number>();
    const treeSizes = new Map<string, number>();
    const first = this.root.children?.get(locals[0]!);
    if (first) {
      let node: Node = first;
      const active = new Set(node.workers);
      let depth = 1;
      for (; depth < locals.length && active.size; depth++) {
        const next: Node | undefined = node.children?.get(locals[depth]!);
        if (!next) break;
        for (const w of active) {
          if (!next.workers.has(w)) {
            scores.set(this.names[w]!, depth);
            active.delete(w);
          }
        }
        node = next;
      }
      for (const w of active) scores.set(this.names[w]!, depth);
    }
    for (const name of scores.keys()) treeSizes.set(name, this.treeSize(name));
    return {scores, treeSizes};
  }
}
