/**
 * Turns trace requests into prompts the mocker and the router can use: hash id h expands to
 * `traceBlockSize` deterministic tokens (equal ids → equal tokens), and the prompt's block hashes
 * are memoized per hash id. That is exact, not an approximation: ids are prefix-chained, so an id
 * always follows the same parent and its blocks always hash the same; a trace that breaks the
 * chain (same id after a different parent) is detected and hashed afresh.
 */
import {type Block, blocksOf} from '../engines/mocker/kv-blocks.js';
import type {BlockPrompt} from '../engines/mocker/scheduler.js';
import {type BlockHasher, hashKey} from '../kv/block-hasher.js';
import {NativeBlockHasher} from '../kv/dynamo-hash.js';
import type {TraceRequest} from '../traces/mooncake.js';

/**
 * A prompt as the mocker takes it: every full engine block, then the tokens after the last one.
 * Only that tail is materialized: writing 145 M tokens per replay of a trace would cost more than
 * the replay, and nothing reads them.
 */
export type TracePrompt = BlockPrompt;

interface IdEntry {
  parent: bigint | undefined;
  /** Full engine blocks inside this id's tokens (traceBlockSize / blockSize of them). */
  blocks: Block[];
}

export class TracePrompts {
  private readonly ids = new Map<number, IdEntry>();
  private readonly perId: number;
  /** The tokens of the ids being hashed (typed arrays are costly to allocate by the 100,000). */
  private scratch: Uint32Array;

  constructor(
    private readonly hasher: BlockHasher,
    private readonly traceBlockSize: number,
    private readonly vocabSize = 32000,
  ) {
    this.perId = traceBlockSize / hasher.blockSize;
    this.scratch = new Uint32Array(traceBlockSize);
  }

  /**
   * Writes `n` deterministic tokens of hash id `id`, from its `skip`-th on, at `out[at]` (a cheap integer mix of
   * id and position; regenerated rather than kept, as 180 k ids × 512 tokens would hold 370 MB).
   */
  private idTokens(id: number, out: Uint32Array, at = 0, n = this.traceBlockSize, skip = 0): Uint32Array {
    const seed = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
    const vocab = this.vocabSize;
    const end = skip + n;
    for (let j = skip, o = at; j < end; j++, o++) {
      let h = seed ^ Math.imul(j + 1, 0xc2b2ae35);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d);
      h ^= h >>> 12;
      // ⌊u / 2³² · vocab⌋ (not %: a float modulo per token); the Uint32Array store truncates, which
      // is the floor here, and costs less than Math.floor.
      out[o] = ((h >>> 0) / 4294967296) * vocab;
    }
    return out;
  }

  /** The memoized blocks of `id` when it follows `parent`, as it did when first seen. */
  private memo(id: number, parent: Block | undefined): IdEntry | undefined {
    const e = this.ids.get(id);
    return e && e.parent === parent?.seq ? e : undefined;
  }

  /**
   * The blocks of ids[from …] chained after `parent`, hashed in one call (one native call per
   * prompt rather than per id) and memoized where the id had none (the first parent seen is the
   * chain's; a break is hashed every time).
   */
  private hashIds(ids: readonly number[], from: number, parent: Block | undefined): IdEntry[] {
    const count = ids.length - from;
    const h = this.hashTokensOf(ids.slice(from), parent?.seq);
    const out: IdEntry[] = [];
    for (let i = 0, b = 0; i < count; i++) {
      const blocks: Block[] = [];
      for (let k = 0; k < this.perId; k++, b++) {
        const seq = h.sequence[b]!; // each read of a BigUint64Array allocates a BigInt
        blocks.push({key: hashKey(seq), local: h.local[b]!, seq});
      }
      const fresh = {parent: parent?.seq, blocks};
      if (!this.ids.has(ids[from + i]!)) this.ids.set(ids[from + i]!, fresh);
      out.push(fresh);
      parent = blocks.at(-1);
    }
    return out;
  }

  /** Local and sequence hashes of the tokens of `ids`, one id after another, chained after `parent`. */
  private hashTokensOf(ids: readonly number[], parent: bigint | undefined): {local: ArrayLike<bigint>; sequence: ArrayLike<bigint>} {
    const h = this.hasher;
    if (h instanceof NativeBlockHasher) {
      // The addon writes the same tokens itself: they never cross into JavaScript.
      const all = h.addon.hashTraceIds(Uint32Array.from(ids), this.traceBlockSize, this.vocabSize, h.blockSize, h.seed, parent);
      const n = all.length / 2;
      return {local: all.subarray(0, n), sequence: all.subarray(n)};
    }
    const per = this.traceBlockSize;
    if (this.scratch.length < ids.length * per) this.scratch = new Uint32Array(ids.length * per);
    for (let i = 0; i < ids.length; i++) this.idTokens(ids[i]!, this.scratch, i * per);
    return h.hashAll(this.scratch.subarray(0, ids.length * per), parent);
  }

  /** Every token of the request's prompt. */
  tokens(r: TraceRequest): Uint32Array {
    const t = new Uint32Array(r.inputLength);
    for (let i = 0; i * this.traceBlockSize < r.inputLength && i < r.hashIds.length; i++) {
      this.idTokens(r.hashIds[i]!, t, i * this.traceBlockSize, Math.min(this.traceBlockSize, r.inputLength - i * this.traceBlockSize));
    }
    return t;
  }

  /**
   * The request's prompt. With engine blocks that divide the trace's (the usual case) the blocks
   * come from the memo and only the tokens after the last full block are written; otherwise every
   * token is written and hashed.
   */
  prompt(r: TraceRequest): TracePrompt {
    const bs = this.hasher.blockSize;
    if (!Number.isInteger(this.perId)) {
      const all = this.tokens(r);
      const blocks = blocksOf(this.hasher, all);
      return {length: r.inputLength, blocks, tail: all.subarray(blocks.length * bs)};
    }
    const tailFrom = Math.floor(r.inputLength / bs) * bs;
    const tail = new Uint32Array(r.inputLength - tailFrom);
    const blocks: Block[] = [];
    let parent: Block | undefined;
    // The ids that carry tokens; from the first one not memoized on, they are hashed together.
    const ids = r.hashIds.slice(0, Math.ceil(r.inputLength / this.traceBlockSize));
    let hashed: IdEntry[] | undefined;
    let hashedFrom = 0;
    for (let i = 0; i < ids.length; i++) {
      const start = i * this.traceBlockSize;
      const n = Math.min(this.traceBlockSize, r.inputLength - start);
      if (start + n > tailFrom) {
        const from = Math.max(start, tailFrom);
        this.idTokens(ids[i]!, tail, from - tailFrom, n - (from - start), from - start);
      }
      let e = hashed?.[i - hashedFrom] ?? this.memo(ids[i]!, parent);
      if (!e) {
        hashed = this.hashIds(ids, (hashedFrom = i), parent);
        e = hashed[0]!;
      }
      const full = Math.floor(n / bs);
      for (let b = 0; b < full; b++) blocks.push(e.blocks[b]!);
      parent = blocks.at(-1);
    }
    return {length: r.inputLength, blocks, tail};
  }
}
