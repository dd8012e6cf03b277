/**
 * Block hashing of token sequences: only full blocks are hashed, and each block's hash chains its
 * parent's, so equal hashes mean equal tokens *and* equal prefixes (what prefix caching needs).
 *
 * Hashes are 53-bit safe integers (two 32-bit lanes mixed murmur3-style), fast as JS numbers and
 * usable as Map keys. The KV router issue replaces this with Dynamo's exact XXH3-64 scheme behind
 * the same functions.
 */
export type BlockHash = number;

const M1 = 0x85ebca6b;
const M2 = 0xc2b2ae35;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, M1);
  h ^= h >>> 13;
  h = Math.imul(h, M2);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of one block of `blockSize` tokens starting at `start`, chained to `parent` (0 for the first block). */
export function hashBlock(tokens: ArrayLike<number>, start: number, blockSize: number, parent: BlockHash): BlockHash {
  let h1 = (parent % 0x100000000 ^ 0x9e3779b9) >>> 0;
  let h2 = (Math.floor(parent / 0x100000000) ^ 0x7f4a7c15 ^ blockSize) >>> 0;
  for (let i = start; i < start + blockSize; i++) {
    const t = tokens[i]! | 0;
    h1 = Math.imul(h1 ^ t, 0xcc9e2d51);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 ^ (t + 0x1b873593), 0x1b873593);
    h2 = (h2 << 13) | (h2 >>> 19);
    h1 = (h1 + h2) | 0;
  }
  const a = fmix(h1 ^ h2);
  const b = fmix((h2 + Math.imul(h1, 5)) >>> 0) & 0x1fffff; // 21 bits → 53 in total
  return b * 0x100000000 + a || 1;
}

/** Chained hashes of every full block of `tokens`. */
export function hashBlocks(tokens: ArrayLike<number>, blockSize: number): BlockHash[] {
  const n = Math.floor(tokens.length / blockSize);
  const out = new Array<BlockHash>(n);
  let parent = 0;
  for (let b = 0; b < n; b++) out[b] = parent = hashBlock(tokens, b * blockSize, blockSize, parent);
  return out;
}
