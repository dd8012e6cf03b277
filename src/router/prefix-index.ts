/**
 * Which worker holds which block sequence, fed by KV events (Dynamo's RadixTree, lib/kv-router):
 * - nodes are keyed by the block's *local* hash under their parent, and carry the set of workers
 *   holding that block; each worker also maps its *sequence* (external) hashes to nodes, which is
 *   how `stored` events find their parent and `removed` events find their block;
 * - `findMatches(localHashes)` walks from the root, and a worker's overlap is the depth at which it
 *   drops out of the intersection.
 * Hashes are JS numbers here (53-bit keys; `hashKey` turns 64-bit values into them). Worker ids
 * are interned to small integers; a node's holders are bits (workers 0–30) plus a set beyond, so
 * the walk intersects with one AND per level; per-worker lookups are open-addressing tables.
 */
import {KeyTable} from '../shared/key-table.js';

export type HashKey = number;

interface Node {
  key: HashKey;
  parent: Node | undefined;
  /** Children: most nodes have at most one (chains branch only where prefixes diverge). */
  one: Node | undefined;
  many: Map<HashKey, Node> | undefined;
  /** Workers 0–30 holding the block, as bits (the common case, and fast to intersect). */
  bits: number;
  /** Workers 31 and up. */
  more: Set<number> | undefined;
}

/** Workers with an index below this are kept as bits. */
const BITS = 31;

const child = (n: Node, key: HashKey): Node | undefined => (n.one?.key === key ? n.one : n.many?.get(key));
const hasChildren = (n: Node) => n.one !== undefined || !!n.many?.size;
const newNode = (key: HashKey, parent: Node | undefined): Node => ({key, parent, one: undefined, many: undefined, bits: 0, more: undefined});

function addChild(n: Node, c: Node): void {
  if (!n.one && !n.many?.size) n.one = c;
  else (n.many ??= new Map()).set(c.key, c);
}

function removeChild(n: Node, c: Node): void {
  if (n.one === c) n.one = undefined;
  else n.many?.delete(c.key);
}

const holds = (n: Node, w: number) => (w < BITS ? (n.bits >>> w) & 1 : n.more?.has(w) ?? false);
const empty = (n: Node) => n.bits === 0 && !n.more?.size;

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
  private readonly root: Node = newNode(0, undefined);
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly lookup: KeyTable<Node>[] = [];

  private workerIndex(worker: string): number {
    let i = this.ids.get(worker);
    if (i === undefined) {
      i = this.names.length;
      this.ids.set(worker, i);
      this.names.push(worker);
      this.lookup.push(new KeyTable());
    }
    return i;
  }

  private add(n: Node, w: number): void {
    if (w < BITS) n.bits |= 1 << w;
    else (n.more ??= new Set()).add(w);
  }

  private drop(n: Node, w: number): void {
    if (w < BITS) n.bits &= ~(1 << w);
    else n.more?.delete(w);
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
      let c = child(node, b.local);
      if (!c) addChild(node, (c = newNode(b.local, node)));
      this.add(c, w);
      own.set(b.seq, c);
      node = c;
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
      this.drop(node, w);
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
      this.drop(node, w);
      this.prune(node);
    }
    this.lookup[w] = new KeyTable();
  }

  /** Drops nodes nobody holds and that lead nowhere, upwards. */
  private prune(node: Node): void {
    let n: Node | undefined = node;
    while (n && n !== this.root && empty(n) && !hasChildren(n)) {
      removeChild(n.parent!, n);
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
    const first = child(this.root, locals[0]!);
    if (first) {
      let node: Node = first;
      let bits = first.bits;
      const more = first.more?.size ? new Set(first.more) : undefined;
      let depth = 1;
      for (; depth < locals.length && (bits || more?.size); depth++) {
        const next = child(node, locals[depth]!);
        if (!next) break;
        // Workers that hold this block's parent but not the block drop out at this depth.
        for (let gone = bits & ~next.bits; gone; gone &= gone - 1) scores.set(this.names[31 - Math.clz32(gone & -gone)]!, depth);
        bits &= next.bits;
        if (more) {
          for (const w of more) {
            if (!holds(next, w)) {
              scores.set(this.names[w]!, depth);
              more.delete(w);
            }
          }
        }
        node = next;
      }
      for (let left = bits; left; left &= left - 1) scores.set(this.names[31 - Math.clz32(left & -left)]!, depth);
      if (more) for (const w of more) scores.set(this.names[w]!, depth);
    }
    for (const name of scores.keys()) treeSizes.set(name, this.treeSize(name));
    return {scores, treeSizes};
  }
}
