export interface NativeAddon {
  /** "dynamo_native N (xxHash x.y.z, N-API 8)". */
  readonly version: string;
  /** [local hashes of every full block…, sequence hashes…] (Dynamo's scheme; chain seed 1337), the first chained to `parent` if given. */
  hashBlocks(tokens: Uint32Array, blockSize: number, seed: bigint, parent?: bigint): BigUint64Array;
  xxh3(bytes: Uint8Array, seed: bigint): bigint;
  indexNew(): object;
  /** Releases the index's memory now (else the garbage collector does); later calls with it throw. */
  indexFree(index: object): void;
  /** Status: 0 ok, 1 parent block not found, 2 block not found. `count`: use only the first `count` entries (reused scratch arrays). */
  indexStore(index: object, worker: number, parent: bigint | null, locals: BigUint64Array, externals: BigUint64Array, count?: number): number;
  indexRemove(index: object, worker: number, externals: BigUint64Array, count?: number): number;
  indexClear(index: object, worker: number): void;
  indexTreeSize(index: object, worker: number): number;
  /** Writes scores[w] (leading blocks worker w holds) and sizes[w] (its blocks) for every worker; returns how many workers there are. */
  indexFindMatches(index: object, locals: BigUint64Array, scores: Uint32Array, sizes: Uint32Array): number;
}
declare const addon: Partial<NativeAddon> & {loadError?: string};
export = addon;
