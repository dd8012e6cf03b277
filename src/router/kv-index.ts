/**
 * The prefix index as the router uses it, with full 64-bit hashes: the native module's when the
 * addon is built, else the TypeScript one (prefix-index.ts) behind the same interface.
 */
import {type NativeAddon, native} from '../native/index.js';
import {hashKey} from '../kv/block-hasher.js';
import {type BlockList, wordsKey} from '../kv/block-list.js';
import {Predictions, type Removals} from './predictions.js';
import {type EventStatus, type OverlapScores, PrefixIndex} from './prefix-index.js';

export interface KvIndex {
  /**
   * A `stored` event: blocks (content hash, engine id) appended under `parent` (undefined = root);
   * the first `count` of the arrays (all by default: callers may pass reused scratch arrays).
   */
  store(worker: string, parent: bigint | undefined, locals: ArrayLike<bigint>, externals: ArrayLike<bigint>, count?: number): EventStatus;
  /** A `removed` event, by engine ids (the first `count`, all by default). */
  remove(worker: string, externals: ArrayLike<bigint>, count?: number): EventStatus;
  /**
   * A `stored` event and a `removed` event as a KvEventSink gives them (hashes as 32-bit words),
   * that may wait: the index applies what waits, in order, before any other call (the native one
   * in one call per batch: a replay feeds millions of events). Their statuses are not reported.
   */
  queueStored(worker: string, parent: ArrayLike<number> | undefined, local: Uint32Array, sequence: Uint32Array, from: number, to: number): void;
  queueRemoved(worker: string, sequence: Uint32Array, count: number): void;
  /** A `cleared` event, or the worker left (its predictions go too). */
  clear(worker: string): void;
  /**
   * Approximate routing (no KV events): `worker` is assumed to hold every block of `blocks` (stored
   * from the root; the first `held` the index gives it already, which need no storing) until `expiry`. expire(now) takes the lapsed predictions out of the index,
   * pruneOldest(keep) all but `keep` of them (earliest expiry first, deeper blocks first on ties);
   * predicted(worker) counts a worker's predictions, predicted() all of them. The native index
   * keeps them natively (predictions.h), the TypeScript one in predictions.ts: a replay makes
   * millions, and per block they cost the router more in JavaScript than all else.
   */
  predict(worker: string, blocks: BlockList, expiry: number, held?: number): void;
  expire(now: number): void;
  pruneOldest(keep: number): void;
  predicted(worker?: string): number;
  treeSize(worker: string): number;
  findMatches(locals: ArrayLike<bigint>): OverlapScores;
}

export function createKvIndex(): KvIndex {
  return native ? new NativeKvIndex(native) : new TsKvIndex();
}

const keys = (hashes: ArrayLike<bigint>, count = hashes.length) => Array.from({length: count}, (_, i) => hashKey(hashes[i]!));

/** The TypeScript index: 53-bit keys of the hashes. */
export class TsKvIndex implements KvIndex {
  private readonly index = new PrefixIndex();
  private readonly predictions = new Predictions();

  store(worker: string, parent: bigint | undefined, locals: ArrayLike<bigint>, externals: ArrayLike<bigint>, count = locals.length): EventStatus {
    const blocks = Array.from({length: count}, (_, i) => ({local: hashKey(locals[i]!), seq: hashKey(externals[i]!)}));
    return this.index.store(worker, parent === undefined ? undefined : hashKey(parent), blocks);
  }
  remove(worker: string, externals: ArrayLike<bigint>, count = externals.length): EventStatus {
    return this.index.remove(worker, keys(externals, count));
  }
  queueStored(worker: string, parent: ArrayLike<number> | undefined, local: Uint32Array, sequence: Uint32Array, from: number, to: number): void {
    const blocks = Array.from({length: to - from}, (_, i) => ({local: wordsKey(local[2 * (from + i)]!, local[2 * (from + i) + 1]!), seq: wordsKey(sequence[2 * (from + i)]!, sequence[2 * (from + i) + 1]!)}));
    this.index.store(worker, parent === undefined ? undefined : wordsKey(parent[0]!, parent[1]!), blocks);
  }
  queueRemoved(worker: string, sequence: Uint32Array, count: number): void {
    this.index.remove(worker, Array.from({length: count}, (_, i) => wordsKey(sequence[2 * i]!, sequence[2 * i + 1]!)));
  }
  clear(worker: string): void {
    this.index.clear(worker);
    this.predictions.removeWorker(worker);
  }
  predict(worker: string, blocks: BlockList, expiry: number): void {
    this.store(worker, undefined, blocks.local, blocks.sequence);
    this.predictions.add(worker, blocks, expiry);
  }
  expire(now: number): void {
    this.forget(this.predictions.takeLapsed(now));
  }
  pruneOldest(keep: number): void {
    this.forget(this.predictions.takeOldest(keep));
  }
  predicted(worker?: string): number {
    return worker === undefined ? this.predictions.count : this.predictions.size(worker);
  }
  private forget(removals: Removals): void {
    for (const {worker, sequence} of removals) this.queueRemoved(worker, sequence, sequence.length / 2);
  }
  treeSize(worker: string): number {
    return this.index.treeSize(worker);
  }
  findMatches(locals: ArrayLike<bigint>): OverlapScores {
    return this.index.findMatches(keys(locals));
  }
}

const STATUS: EventStatus[] = ['ok', 'parent_block_not_found', 'block_not_found'];
const u64 = (a: ArrayLike<bigint>) => (a instanceof BigUint64Array ? a : BigUint64Array.from(a));

/**
 * The native index; worker names are interned to the small integers it works with. Besides the
 * KvIndex methods, `findMatchesInto` gives the scores without building Maps (the router's hot path
 * can read them by worker index).
 */
export class NativeKvIndex implements KvIndex {
  private readonly handle: object;
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private scores = new Uint32Array(64);
  private sizes = new Uint32Array(64);
  /** `sizes` holds every worker's tree size: no event since the last query (the router asks for them right after one). */
  private sizesFresh = false;
  /** Reused for events given as plain arrays (a typed array per event costs more than the event). */
  private scratchA = new BigUint64Array(256);
  private scratchB = new BigUint64Array(256);
  /** Queued events for indexApply: (kind, worker, count) each, and their hashes (kinds as in index.d.cts). */
  private ops = new Uint32Array(3 * 4096);
  private nOps = 0;
  private hashes = new BigUint64Array(1 << 16);
  /** `hashes` as 32-bit words (low, high): events are queued as the words they come in, no BigInt. */
  private words = new Uint32Array(this.hashes.buffer);
  private nHashes = 0;

  /** The first `n` of `a` as a BigUint64Array: itself, or copied into scratch (`into` picks which). */
  private packed(a: ArrayLike<bigint>, into: 'a' | 'b', n = a.length): BigUint64Array {
    if (a instanceof BigUint64Array) return a;
    let s = into === 'a' ? this.scratchA : this.scratchB;
    if (s.length < n) {
      s = new BigUint64Array(Math.max(n, s.length * 2));
      if (into === 'a') this.scratchA = s;
      else this.scratchB = s;
    }
    for (let i = 0; i < n; i++) s[i] = a[i]!;
    return s;
  }

  constructor(private readonly addon: NativeAddon) {
    this.handle = addon.indexNew();
  }

  private id(worker: string): number {
    let i = this.ids.get(worker);
    if (i === undefined) {
      this.ids.set(worker, (i = this.names.length));
      this.names.push(worker);
      if (this.names.length > this.scores.length) {
        this.scores = new Uint32Array(this.scores.length * 2);
        this.sizes = new Uint32Array(this.scores.length);
      }
    }
    return i;
  }

  /** Room for one more queued event of `need` hashes (applying what waits when full). */
  private room(need: number): void {
    if (this.nOps * 3 === this.ops.length || this.nHashes + need > this.hashes.length) this.flush();
    if (need > this.hashes.length) {
      this.hashes = new BigUint64Array(2 * need);
      this.words = new Uint32Array(this.hashes.buffer);
    }
    this.sizesFresh = false;
  }

  private queued(kind: number, worker: number, count: number): void {
    const o = 3 * this.nOps++;
    this.ops[o] = kind;
    this.ops[o + 1] = worker;
    this.ops[o + 2] = count;
  }

  queueStored(worker: string, parent: ArrayLike<number> | undefined, local: Uint32Array, sequence: Uint32Array, from: number, to: number): void {
    const n = to - from;
    this.room(2 * n + 1);
    const w = this.words;
    let at = 2 * this.nHashes;
    if (parent !== undefined) {
      w[at++] = parent[0]!;
      w[at++] = parent[1]!;
    }
    for (let i = 2 * from; i < 2 * to; i++) w[at++] = local[i]!;
    for (let i = 2 * from; i < 2 * to; i++) w[at++] = sequence[i]!;
    this.nHashes = at / 2;
    this.queued(parent === undefined ? 0 : 1, this.id(worker), n);
  }

  queueRemoved(worker: string, sequence: Uint32Array, count: number): void {
    const id = this.ids.get(worker);
    if (id === undefined) return; // nothing stored, nothing to remove
    this.room(count);
    const w = this.words;
    let at = 2 * this.nHashes;
    for (let i = 0; i < 2 * count; i++) w[at++] = sequence[i]!;
    this.nHashes = at / 2;
    this.queued(2, id, count);
  }

  /** Applies the queued events. */
  private flush(): void {
    if (!this.nOps) return;
    this.addon.indexApply(this.handle, this.ops, this.nOps, this.hashes);
    this.nOps = this.nHashes = 0;
  }

  store(worker: string, parent: bigint | undefined, locals: ArrayLike<bigint>, externals: ArrayLike<bigint>, count?: number): EventStatus {
    this.flush();
    if (count === undefined && locals.length !== externals.length) throw new Error('locals and externals differ in length');
    const n = count ?? locals.length;
    if (n > locals.length || n > externals.length) throw new Error('count exceeds the arrays');
    this.sizesFresh = false;
    return STATUS[this.addon.indexStore(this.handle, this.id(worker), parent ?? null, this.packed(locals, 'a', n), this.packed(externals, 'b', n), n)]!;
  }
  remove(worker: string, externals: ArrayLike<bigint>, count = externals.length): EventStatus {
    this.flush();
    this.sizesFresh = false;
    const w = this.ids.get(worker);
    return w === undefined ? 'block_not_found' : STATUS[this.addon.indexRemove(this.handle, w, this.packed(externals, 'b', count), count)]!;
  }
  clear(worker: string): void {
    this.flush();
    this.sizesFresh = false;
    const w = this.ids.get(worker);
    if (w === undefined) return;
    this.addon.indexClear(this.handle, w);
    this.addon.indexForgetPredictions(this.handle, w);
  }
  predict(worker: string, blocks: BlockList, expiry: number, held = 0): void {
    this.flush();
    this.sizesFresh = false;
    this.addon.indexPredict(this.handle, this.id(worker), blocks.local, blocks.sequence, expiry, held);
  }
  expire(now: number): void {
    this.flush();
    this.sizesFresh = false;
    this.addon.indexExpire(this.handle, now);
  }
  pruneOldest(keep: number): void {
    this.flush();
    this.sizesFresh = false;
    this.addon.indexPruneOldest(this.handle, keep);
  }
  predicted(worker?: string): number {
    if (worker === undefined) return this.addon.indexPredicted(this.handle, -1);
    const w = this.ids.get(worker);
    return w === undefined ? 0 : this.addon.indexPredicted(this.handle, w);
  }
  treeSize(worker: string): number {
    const w = this.ids.get(worker);
    if (w === undefined) return 0;
    this.flush();
    return this.sizesFresh ? this.sizes[w]! : this.addon.indexTreeSize(this.handle, w);
  }

  /**
   * The overlap without Maps: returns the number of workers n; for i < n, worker `workerName(i)`
   * holds `matchScores[i]` leading blocks and `matchTreeSizes[i]` blocks in all (valid until the
   * next call).
   */
  findMatchesInto(locals: ArrayLike<bigint>): number {
    this.flush();
    if (!locals.length) {
      this.scores.fill(0);
      return 0;
    }
    const n = this.addon.indexFindMatches(this.handle, u64(locals), this.scores, this.sizes);
    this.sizesFresh = true;
    return n;
  }
  get matchScores(): Uint32Array {
    return this.scores;
  }
  get matchTreeSizes(): Uint32Array {
    return this.sizes;
  }
  workerName(i: number): string {
    return this.names[i]!;
  }

  /** Releases the native memory now rather than when the collector finds the index (it must not be used after). */
  dispose(): void {
    this.nOps = this.nHashes = 0;
    this.sizesFresh = false;
    this.addon.indexFree(this.handle);
  }

  findMatches(locals: ArrayLike<bigint>): OverlapScores {
    const scores = new Map<string, number>();
    const treeSizes = new Map<string, number>();
    const n = this.findMatchesInto(locals);
    for (let w = 0; w < n; w++) {
      if (!this.scores[w]) continue;
      scores.set(this.names[w]!, this.scores[w]!);
      treeSizes.set(this.names[w]!, this.sizes[w]!);
    }
    return {scores, treeSizes};
  }
}
