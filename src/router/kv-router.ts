/**
 * KV-aware routing. For each request: hash its full blocks the way Dynamo does, ask the prefix
 * index how many leading blocks each worker holds, add each worker's load from the router's own
 * active-sequence bookkeeping, and pick by Dynamo's cost (kv-cost.ts).
 *
 * With KV events (the default) the index is exactly what the workers report (`eventSink`).
 * Approximate mode (Dynamo's --no-router-kv-events): the index learns from the router's own
 * decisions: the chosen worker is assumed to hold the request's blocks for `ttlMs`; when the index
 * exceeds `maxTreeSize` blocks it is pruned to `pruneTargetRatio` of that, earliest expiry first
 * (deeper blocks first on ties).
 */
import {ActiveSequences} from './active-sequences.js';
import {DynamoBlockHasher} from '../kv/dynamo-hash.js';
import type {KvEventSink} from '../kv/events.js';
import {scoreWorkersKv, selectKvWorker} from './kv-cost.js';
import type {RequestRouter, RouteDecision, RouteRequest, TokenPrefix, WorkerSnapshot} from './policy.js';
import {type BlockList, blockList, copyBlocks, emptyBlocks, setBlocks} from '../kv/block-list.js';
import {type KvIndex, createKvIndex} from './kv-index.js';

export interface KvRouterOptions {
  blockSize: number;
  overlapWeight: number;
  temperature: number;
  /** Learn caches from workers' KV events (true) or predict them from routing decisions (false). */
  useKvEvents: boolean;
  ttlMs: number;
  maxTreeSize: number;
  pruneTargetRatio: number;
  now?: () => number;
  random?: () => number;
}

export class KvRouter implements RequestRouter {
  readonly name: string;
  private readonly index: KvIndex = createKvIndex();
  private readonly active = new ActiveSequences();
  private lastSweep = 0;
  /**
   * The blocks of prompts routed, by their token arrays, for as long as something else keeps those
   * arrays (the tokenizer's conversation cache keeps each conversation's last prompt): a next turn
   * that starts with one hashes only its new blocks.
   */
  private readonly routedBlocks = new WeakMap<object, BlockList>();
  /** Next stand-in block key for requests that assume no KV reuse (negative: never a real hash key). */
  private privateKey = -1;
  private readonly now: () => number;
  private readonly random: () => number;

  private constructor(
    private readonly hasher: DynamoBlockHasher,
    private readonly opts: KvRouterOptions,
  ) {
    this.name = opts.useKvEvents ? 'kv' : 'kv-approx';
    if (opts.useKvEvents) {
      this.eventSink = (worker) => this.sink(worker);
    }
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  static async create(opts: KvRouterOptions): Promise<KvRouter> {
    return new KvRouter(await DynamoBlockHasher.create(opts.blockSize), opts);
  }

  choose(req: RouteRequest, workers: readonly WorkerSnapshot[]): RouteDecision | undefined {
    if (!workers.length) return undefined;
    const now = this.now();
    this.sweep(now);
    const blocks = req.blockHashes ?? this.blocksOf(req.tokens, req.prefix);
    const seqs = blocks.keys;
    const overlap = seqs.length ? this.index.findMatches(blocks.local) : undefined;
    const o = req.overrides ?? {};
    // Without KV reuse every block is new decode load: stand-in keys no other request shares.
    const activeKeys = o.assumeKvReuse === false ? Array.from(seqs, () => this.privateKey--) : seqs;
    const track = o.trackPrefillTokens ?? true;
    const shared = this.active.sharedBlocks(activeKeys);
    const scores = scoreWorkersKv(
      workers.map((w) => ({
        id: w.id,
        overlapBlocks: overlap?.scores.get(w.id) ?? 0,
        activePrefillTokens: this.active.pendingPrefillTokens(w.id),
        activeBlocks: this.active.activeBlocks(w.id),
        newBlocks: activeKeys.length - (shared.get(w.id) ?? 0),
        treeSize: this.index.treeSize(w.id),
      })),
      {isl: req.tokens.length, blockSize: this.opts.blockSize, overlapWeight: o.overlapWeight ?? this.opts.overlapWeight, trackPrefillTokens: track},
    );
    const best = selectKvWorker(scores, o.temperature ?? this.opts.temperature, this.random)!;
    const overlapBlocks = overlap?.scores.get(best.id) ?? 0;
    this.active.add(req.id, best.id, activeKeys, track ? Math.max(0, req.tokens.length - overlapBlocks * this.opts.blockSize) : 0);
    if (!this.opts.useKvEvents) this.predict(best.id, blocks, overlapBlocks, now);
    return {workerId: best.id, overlapBlocks};
  }

  firstToken(requestId: string): void {
    this.active.prefillDone(requestId);
  }

  done(requestId: string): void {
    this.active.free(requestId);
  }

  /** KV events mode only: a worker's events as calls. */
  readonly eventSink?: (worker: string) => KvEventSink;

  private sink(worker: string): KvEventSink {
    // Stored and removed events wait in the index and go in batches (it applies them, in order,
    // before it is read): no array, BigInt or native call per event.
    return {
      stored: (parent, local, sequence, from, to) => this.index.queueStored(worker, parent, local, sequence, from, to),
      removed: (sequence, count) => this.index.queueRemoved(worker, sequence, count),
      cleared: () => this.index.clear(worker),
    };
  }

  saturated(workers: readonly WorkerSnapshot[], threshold: number): boolean {
    if (threshold <= 0 || !workers.length) return false;
    return workers.every((w) => this.active.pendingPrefillTokens(w.id) > threshold * (w.maxNumBatchedTokens ?? 10_000_000));
  }

  /** The worker left: forget its caches (its requests in flight end with their streams). */
  removeWorker(worker: string): void {
    this.index.clear(worker);
  }

  /** Blocks the router currently predicts as cached, per worker (tests, metrics). */
  predictedBlocks(worker: string): number {
    return this.index.predicted(worker);
  }

  /** `held`: the leading blocks the index already gives the worker (its overlap score). */
  private predict(worker: string, blocks: BlockList, held: number, now: number): void {
    if (!blocks.keys.length) return;
    this.index.predict(worker, blocks, now + this.opts.ttlMs, held);
    if (this.index.predicted() > this.opts.maxTreeSize) this.index.pruneOldest(Math.floor(this.opts.maxTreeSize * this.opts.pruneTargetRatio));
  }

  /** Drops lapsed predictions (at most once a second). */
  private sweep(now: number): void {
    if (now - this.lastSweep < 1000) return;
    this.lastSweep = now;
    this.index.expire(now);
  }

  /** The full blocks of `tokens`, hashed Dynamo's way: those of an earlier prompt they start with (`prefix`) are copied, the rest hashed after them. */
  private blocksOf(tokens: ArrayLike<number>, prefix?: TokenPrefix): BlockList {
    // The same prompt routed again (a disaggregated request's prefill, after its decode worker's routing): its blocks as they were (never changed once made).
    const again = Array.isArray(tokens) ? this.routedBlocks.get(tokens) : undefined;
    if (again) return again;
    const size = this.opts.blockSize;
    const earlier = prefix && this.routedBlocks.get(prefix.tokens);
    const total = Math.floor(tokens.length / size);
    const reused = earlier ? Math.min(earlier.keys.length, Math.floor(prefix.length / size), total) : 0;
    let blocks: BlockList;
    if (reused) {
      blocks = emptyBlocks(total);
      copyBlocks(blocks, 0, earlier!, 0, reused);
      if (total > reused) {
        const rest = new Uint32Array((total - reused) * size);
        for (let i = 0; i < rest.length; i++) rest[i] = tokens[reused * size + i]!;
        const h = this.hasher.hashAll(rest, earlier!.sequence[reused - 1]);
        setBlocks(blocks, reused, h.local, h.sequence);
      }
    } else {
      const h = this.hasher.hashAll(tokens);
      blocks = blockList(h.local, h.sequence);
    }
    if (Array.isArray(tokens)) this.routedBlocks.set(tokens, blocks);
    return blocks;
  }
}
