/**
 * Turns trace requests into prompts the mocker and the router can use: hash id h expands to
 * `traceBlockSize` deterministic tokens (equal ids → equal tokens), and the prompt's block hashes
 * are memoized per hash id. That is exact, not an approximation: ids are prefix-chained, so an id
 * always follows the same parent and its blocks always hash the same; a trace that breaks the
 * chain (same id after a different parent) is detected and hashed afresh.
 */
import {blocksOf} from '../engines/mocker/kv-blocks.js';
import type {BlockPrompt} from '../engines/mocker/scheduler.js';
import type {BlockHasher} from '../kv/block-hasher.js';
import {type BlockList, blockList, copyBlocks, emptyBlocks, fillBlock} from '../kv/block-list.js';
import {NativeBlockHasher} from '../kv/dynamo-hash.js';
import type {TraceRequest} from '../traces/mooncake.js';

/**
 * A prompt as the mocker takes it: every full engine block, then the tokens after the last one.
 * Only that tail is materialized: writing 145 M tokens per replay of a trace would cost more than
 * the replay, and nothing reads them.
 */
export type TracePrompt = BlockPrompt;

/** Local and sequence hashes as 32-bit words (low, high), one block after another. */
interface HashWords {
  local: Uint32Array;
  sequence: Uint32Array;
}

/** The parent high word of an id that starts its prompt (no hash has it: words are 0 … 2³² − 1). */
const ROOT = -1;

/**
 * Trace hash ids → their engine blocks. Every id hashed is an entry: its blocks in one growing
 * BlockList (no object per block or per id), and the parent it was hashed after. The first entry
 * of an id is its memo.
 */
export class TracePrompts {
  /** Id → its memo entry. */
  private readonly memos = new Map<number, number>();
  /** Per entry: where its blocks start in `hashed`, and its parent's sequence-hash words (high ROOT: none). */
  private readonly entryAt: number[] = [];
  private readonly parentLo: number[] = [];
  private readonly parentHi: number[] = [];
  /** The blocks of every entry (`perId` each), from 0 to `used`. */
  private hashed: BlockList = emptyBlocks(1024);
  private used = 0;
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

  /** The memo entry of `id` when it follows the block with sequence-hash words `lo`, `hi` (hi ROOT: none), as it did when first seen. */
  private memo(id: number, lo: number, hi: number): number | undefined {
    const e = this.memos.get(id);
    return e !== undefined && this.parentHi[e] === hi && this.parentLo[e] === lo ? e : undefined;
  }

  /** Room in `hashed` for `n` more blocks. */
  private reserve(n: number): void {
    const cap = this.hashed.keys.length;
    if (this.used + n <= cap) return;
    const grown = emptyBlocks(Math.max(this.used + n, 2 * cap));
    copyBlocks(grown, 0, this.hashed, 0, this.used);
    this.hashed = grown;
  }

  /**
   * The entries of ids[from …] chained after the block with words `lo`, `hi`, hashed in one call
   * (one native call per prompt rather than per id); each becomes its id's memo where the id had
   * none (the first parent seen is the chain's; a break is hashed every time).
   */
  private hashIds(ids: readonly number[], from: number, lo: number, hi: number): number[] {
    const count = ids.length - from;
    const h = this.hashTokensOf(ids.slice(from), hi === ROOT ? undefined : (BigInt(hi) << 32n) | BigInt(lo));
    this.reserve(count * this.perId);
    const out: number[] = [];
    for (let i = 0, b = 0; i < count; i++) {
      const e = this.entryAt.length;
      this.entryAt.push(this.used);
      this.parentLo.push(lo);
      this.parentHi.push(hi);
      for (let k = 0; k < this.perId; k++, b++) {
        fillBlock(this.hashed, this.used++, h.local[2 * b]!, h.local[2 * b + 1]!, h.sequence[2 * b]!, h.sequence[2 * b + 1]!);
      }
      if (!this.memos.has(ids[from + i]!)) this.memos.set(ids[from + i]!, e);
      out.push(e);
      lo = h.sequence[2 * b - 2]!;
      hi = h.sequence[2 * b - 1]!;
    }
    return out;
  }

  /** Local and sequence hashes of the tokens of `ids`, one id after another, chained after `parent`. */
  private hashTokensOf(ids: readonly number[], parent: bigint | undefined): HashWords {
    const h = this.hasher;
    if (h instanceof NativeBlockHasher) {
      // The addon writes the same tokens itself: they never cross into JavaScript.
      const all = h.addon.hashTraceIds(Uint32Array.from(ids), this.traceBlockSize, this.vocabSize, h.blockSize, h.seed, parent);
      const n = all.length / 2;
      return {local: new Uint32Array(all.buffer, all.byteOffset, 2 * n), sequence: new Uint32Array(all.buffer, all.byteOffset + 8 * n, 2 * n)};
    }
    const per = this.traceBlockSize;
    if (this.scratch.length < ids.length * per) this.scratch = new Uint32Array(ids.length * per);
    for (let i = 0; i < ids.length; i++) this.idTokens(ids[i]!, this.scratch, i * per);
    const hashed = h.hashAll(this.scratch.subarray(0, ids.length * per), parent);
    const list = blockList(hashed.local, hashed.sequence);
    return {local: list.localWords, sequence: list.sequenceWords};
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
      return {length: r.inputLength, blocks, tail: all.subarray(blocks.keys.length * bs)};
    }
    const tailFrom = Math.floor(r.inputLength / bs) * bs;
    const tail = new Uint32Array(r.inputLength - tailFrom);
    const blocks = emptyBlocks(tailFrom / bs);
    let n = 0;
    // The ids that carry tokens; from the first one not memoized on, they are hashed together.
    const ids = r.hashIds.slice(0, Math.ceil(r.inputLength / this.traceBlockSize));
    let hashed: number[] | undefined;
    let hashedFrom = 0;
    for (let i = 0; i < ids.length; i++) {
      const start = i * this.traceBlockSize;
      const len = Math.min(this.traceBlockSize, r.inputLength - start);
      if (start + len > tailFrom) {
        const from = Math.max(start, tailFrom);
        this.idTokens(ids[i]!, tail, from - tailFrom, len - (from - start), from - start);
      }
      const lo = n ? blocks.sequenceWords[2 * n - 2]! : 0;
      const hi = n ? blocks.sequenceWords[2 * n - 1]! : ROOT;
      let e = hashed?.[i - hashedFrom] ?? this.memo(ids[i]!, lo, hi);
      if (e === undefined) {
        hashed = this.hashIds(ids, (hashedFrom = i), lo, hi);
        e = hashed[0]!;
      }
      const full = Math.floor(len / bs);
      copyBlocks(blocks, n, this.hashed, this.entryAt[e]!, full);
      n += full;
    }
    return {length: r.inputLength, blocks, tail};
  }
}
