export interface NativeAddon {
  /** [local hashes of every full block…, sequence hashes…] (Dynamo's scheme; chain seed 1337), the first chained to `parent` if given. */
  hashBlocks(tokens: Uint32Array, blockSize: number, seed: bigint, parent?: bigint): BigUint64Array;
  xxh3(bytes: Uint8Array, seed: bigint): bigint;
  indexNew(): object;
  indexStore(index: object, worker: number, parent: bigint | null, locals: BigUint64Array, externals: BigUint64Array, count?: number): number;
  indexRemove(index: object, worker: number, externals: BigUint64Array, count?: number): number;
  indexClear(index: object, worker: number): void;
  indexTreeSize(index: object, worker: number): number;
  indexFindMatches(index: object, locals: BigUint64Array, scores: Uint32Array, sizes: Uint32Array): number;
}
declare const addon: Partial<NativeAddon> & {loadError?: string};
export = addon;
