/**
 * Dynamo's block hashing, bit-exact (lib/kv-router protocols.rs):
 *   local block hash = XXH3-64(token ids as little-endian u32, seed 1337)
 *   LoRA             = seed 1337 + XXH3-64(utf-8 adapter name, seed 0), wrapping at 2^64
 *   sequence hash    = seq[0] = local[0]; seq[i] = XXH3-64(LE u64 seq[i-1] ‖ LE u64 local[i], seed 1337)
 * Only full blocks are hashed. Two implementations of one interface: the native module's (xxHash
 * itself, one call per prompt) and, where the addon is not built, hash-wasm's (xxHash compiled to
 * WASM, one call per block). Both are checked against Debian's python3-xxhash
 * (test/fixtures/xxh3-vectors.json). `DynamoBlockHasher.create` picks the native one.
 */
import {type IHasher, createXXHash3} from 'hash-wasm';
import {type NativeAddon, hashBlocks, native} from '../native/index.js';
import type {BlockHasher} from './block-hasher.js';

export const DYNAMO_HASH_SEED = 1337n;
const MASK64 = (1n << 64n) - 1n;

function digest64(h: IHasher, bytes: Uint8Array): bigint {
  h.init();
  h.update(bytes);
  const d = h.digest('binary');
  return ((BigInt((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) & 0xffffffffn) << 32n) | (BigInt((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) & 0xffffffffn);
}

async function hasher(seed: bigint): Promise<IHasher> {
  return createXXHash3(Number(seed & 0xffffffffn), Number(seed >> 32n));
}

/** Dynamo's hashing on hash-wasm. */
export class WasmBlockHasher implements BlockHasher {
  private readonly tokenBytes: Uint8Array;
  private readonly pair = new Uint8Array(16);

  private constructor(
    readonly blockSize: number,
    private readonly block: IHasher,
    private readonly chain: IHasher,
  ) {
    this.tokenBytes = new Uint8Array(blockSize * 4);
  }

  /** `loraName` switches the block seed as Dynamo does for adapter requests. */
  static async create(blockSize: number, loraName?: string): Promise<WasmBlockHasher> {
    const seed = loraName ? (DYNAMO_HASH_SEED + digest64(await hasher(0n), new TextEncoder().encode(loraName))) & MASK64 : DYNAMO_HASH_SEED;
    return new WasmBlockHasher(blockSize, await hasher(seed), await hasher(DYNAMO_HASH_SEED));
  }

  /** XXH3 of one block of tokens starting at `start`. */
  local(tokens: ArrayLike<number>, start = 0, count = this.blockSize): bigint {
    const view = new DataView(this.tokenBytes.buffer);
    for (let i = 0; i < count; i++) view.setUint32(i * 4, tokens[start + i]! >>> 0, true);
    return digest64(this.block, count === this.blockSize ? this.tokenBytes : this.tokenBytes.subarray(0, count * 4));
  }

  /** The chained hash of a block given its parent's sequence hash. */
  sequence(parent: bigint | undefined, local: bigint): bigint {
    if (parent === undefined) return local;
    const view = new DataView(this.pair.buffer);
    view.setBigUint64(0, parent, true);
    view.setBigUint64(8, local, true);
    return digest64(this.chain, this.pair);
  }

  /** Local and sequence hashes of every full block of `tokens`, chained after `parent` if given. */
  hashAll(tokens: ArrayLike<number>, parent?: bigint): {local: bigint[]; sequence: bigint[]} {
    const n = Math.floor(tokens.length / this.blockSize);
    const local: bigint[] = new Array(n);
    const sequence: bigint[] = new Array(n);
    for (let b = 0; b < n; b++) {
      local[b] = this.local(tokens, b * this.blockSize);
      sequence[b] = this.sequence(b ? sequence[b - 1] : parent, local[b]!);
    }
    return {local, sequence};
  }
}

/** Dynamo's hashing in the native module: a whole prompt per call. */
export class NativeBlockHasher implements BlockHasher {
  private readonly pair = new BigUint64Array(2);
  private readonly pairBytes = new Uint8Array(this.pair.buffer);
  /** One block's tokens, as bytes for XXH3 (local()). */
  private bytes = new Uint8Array(0);
  private words = new Uint32Array(0);

  constructor(
    readonly addon: NativeAddon,
    readonly blockSize: number,
    readonly seed: bigint,
  ) {}

  static create(addon: NativeAddon, blockSize: number, loraName?: string): NativeBlockHasher {
    const seed = loraName ? (DYNAMO_HASH_SEED + addon.xxh3(new TextEncoder().encode(loraName), 0n)) & MASK64 : DYNAMO_HASH_SEED;
    return new NativeBlockHasher(addon, blockSize, seed);
  }

  hashAll(tokens: ArrayLike<number>, parent?: bigint): {local: BigUint64Array; sequence: BigUint64Array} {
    const u32 = tokens instanceof Uint32Array ? tokens : Uint32Array.from(tokens);
    return hashBlocks(u32, this.blockSize, this.seed, parent, this.addon);
  }

  local(tokens: ArrayLike<number>, start = 0, count = this.blockSize): bigint {
    // The tokens go through a reused buffer to XXH3, which returns a BigInt: no typed array is
    // created or materialized per block (hashBlocks' result, or a view's .buffer, costs
    // microseconds in Bun, and the mocker hashes a block per 64 generated tokens).
    if (this.words.length < count) {
      this.bytes = new Uint8Array(count * 4);
      this.words = new Uint32Array(this.bytes.buffer);
    }
    for (let i = 0; i < count; i++) this.words[i] = tokens[start + i]!;
    return this.addon.xxh3(count === this.words.length ? this.bytes : this.bytes.subarray(0, count * 4), this.seed);
  }

  sequence(parent: bigint | undefined, local: bigint): bigint {
    if (parent === undefined) return local;
    this.pair[0] = parent;
    this.pair[1] = local;
    return this.addon.xxh3(this.pairBytes, DYNAMO_HASH_SEED);
  }
}

/** Dynamo's block hasher for a block size (and LoRA adapter): native when the addon is built. */
export const DynamoBlockHasher = {
  async create(blockSize: number, loraName?: string): Promise<BlockHasher> {
    return native ? NativeBlockHasher.create(native, blockSize, loraName) : WasmBlockHasher.create(blockSize, loraName);
  },
};
export type DynamoBlockHasher = BlockHasher;
