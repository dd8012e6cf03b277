/**
 * The full KV blocks of a token sequence as typed arrays, one entry per block and no object per
 * block: a replay prepares ~1.5 M distinct blocks, and as objects with BigInt hashes they were
 * 5 M heap cells that every full collection walked. One ArrayBuffer holds the hashes; the
 * BigUint64Array views are what the router and the native index read, the 32-bit word views are
 * what the block manager and the KV event queue copy (integer copies: storing a BigInt into a
 * typed array costs several times more, and creating a view of an existing small typed array
 * costs microseconds in Bun).
 */

export interface BlockList {
  /** Dynamo's content hash of each block (what the router matches). */
  readonly local: BigUint64Array;
  /** The chained (sequence) hash of each block: the engine's id of the block. */
  readonly sequence: BigUint64Array;
  /** `local` as 32-bit words, low then high per block. */
  readonly localWords: Uint32Array;
  /** `sequence` as 32-bit words, low then high per block. */
  readonly sequenceWords: Uint32Array;
  /** Each sequence hash's low 53 bits (hashKey): the number tables key blocks by. */
  readonly keys: Float64Array;
}

/** The key (low 53 bits) of the hash whose words are `lo`, `hi`. */
export const wordsKey = (lo: number, hi: number): number => (hi & 0x1fffff) * 4294967296 + lo;

/** A list of `n` blocks, all zero, to be filled in (fillBlock, copyBlocks). */
export function emptyBlocks(n: number): BlockList {
  const buf = new ArrayBuffer(24 * n);
  return {
    local: new BigUint64Array(buf, 0, n),
    sequence: new BigUint64Array(buf, 8 * n, n),
    localWords: new Uint32Array(buf, 0, 2 * n),
    sequenceWords: new Uint32Array(buf, 8 * n, 2 * n),
    keys: new Float64Array(buf, 16 * n, n),
  };
}

export const NO_BLOCKS: BlockList = emptyBlocks(0);

/** Sets block `i` of `list` from 32-bit words (local low, local high, sequence low, sequence high). */
export function fillBlock(list: BlockList, i: number, localLo: number, localHi: number, seqLo: number, seqHi: number): void {
  list.localWords[2 * i] = localLo;
  list.localWords[2 * i + 1] = localHi;
  list.sequenceWords[2 * i] = seqLo;
  list.sequenceWords[2 * i + 1] = seqHi;
  list.keys[i] = wordsKey(seqLo, seqHi);
}

/** Copies blocks [from, from + n) of `src` to `dst` from block `at`. */
export function copyBlocks(dst: BlockList, at: number, src: BlockList, from: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const s = 2 * (from + i);
    fillBlock(dst, at + i, src.localWords[s]!, src.localWords[s + 1]!, src.sequenceWords[s]!, src.sequenceWords[s + 1]!);
  }
}

/** Sets block `i` of `list` from its hashes as BigInts. */
export function setBlock(list: BlockList, i: number, local: bigint, sequence: bigint): void {
  list.local[i] = local;
  list.sequence[i] = sequence;
  list.keys[i] = wordsKey(list.sequenceWords[2 * i]!, list.sequenceWords[2 * i + 1]!);
}

/** The blocks whose hashes are given (one entry per block in each). */
export function blockList(local: ArrayLike<bigint>, sequence: ArrayLike<bigint>): BlockList {
  return setBlocks(emptyBlocks(local.length), 0, local, sequence);
}

/** Sets blocks from `at` on of `list` from their hashes (one entry per block in each); returns `list`. */
export function setBlocks(list: BlockList, at: number, local: ArrayLike<bigint>, sequence: ArrayLike<bigint>): BlockList {
  if (local.length !== sequence.length) throw new Error('local and sequence hashes differ in length');
  if (local instanceof BigUint64Array && sequence instanceof BigUint64Array) {
    // What the native hasher returns: copied as bytes, no BigInt read or written.
    list.local.set(local, at);
    list.sequence.set(sequence, at);
    for (let i = at; i < at + local.length; i++) list.keys[i] = wordsKey(list.sequenceWords[2 * i]!, list.sequenceWords[2 * i + 1]!);
    return list;
  }
  for (let i = 0; i < local.length; i++) setBlock(list, at + i, local[i]!, sequence[i]!);
  return list;
}

/** Blocks [from, to) of `list`, copied. */
export function sliceBlocks(list: BlockList, from: number, to = list.keys.length): BlockList {
  const n = Math.max(0, Math.min(to, list.keys.length) - from);
  const out = emptyBlocks(n);
  copyBlocks(out, 0, list, from, n);
  return out;
}

/** The blocks of `list` at `indices`, in that order, copied. */
export function pickBlocks(list: BlockList, indices: readonly number[]): BlockList {
  const out = emptyBlocks(indices.length);
  for (let at = 0; at < indices.length; at++) copyBlocks(out, at, list, indices[at]!, 1);
  return out;
}

const words = new DataView(new ArrayBuffer(8));

/** The hash whose 32-bit words are `lo`, `hi`, as a BigInt. */
export function wordsHash(lo: number, hi: number): bigint {
  words.setUint32(0, lo, true);
  words.setUint32(4, hi, true);
  return words.getBigUint64(0, true);
}
