/**
 * What hashes token blocks for prefix caching and routing. Dynamo's scheme (dynamo-hash.ts, or the
 * native module) implements it; engines and the router share it so their hashes agree.
 */
export interface BlockHasher {
  readonly blockSize: number;
  /** Content hash of `count` tokens starting at `start` (a full block by default). */
  local(tokens: ArrayLike<number>, start?: number, count?: number): bigint;
  /** The chained hash of a block given its parent's sequence hash (undefined for the first block). */
  sequence(parent: bigint | undefined, local: bigint): bigint;
  /** Local and sequence hashes of every full block of `tokens`, chained after `parent` if given. */
  hashAll(tokens: ArrayLike<number>, parent?: bigint): {local: ArrayLike<bigint>; sequence: ArrayLike<bigint>};
}

const view = new DataView(new ArrayBuffer(8));

/**
 * 64-bit hash → a JS number key (its low 53 bits; collisions are vanishingly rare at these sizes).
 * Read through a DataView: `Number(h & mask)` allocates a BigInt per call, and the router and the
 * mocker convert millions of hashes.
 */
export function hashKey(h: bigint): number {
  view.setBigUint64(0, h, true);
  return (view.getUint32(4, true) & 0x1fffff) * 4294967296 + view.getUint32(0, true);
}
