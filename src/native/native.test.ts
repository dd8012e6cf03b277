import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {prng} from '../shared/prng.js';
import {DYNAMO_HASH_SEED, WasmBlockHasher} from '../kv/dynamo-hash.js';
import {hashBlocks, requireNative} from './index.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/xxh3-vectors.json', import.meta.url), 'utf8')) as {
  sequences: {tokens: number[]; block_size: number; local: string[]; sequence: string[]}[];
  lora: {name: string; tokens: number[]; hash: string}[];
};

// The addon is built by `npm run setup` and the test setup: its absence is a failure here.
const addon = requireNative();
const loraSeed = (name: string) => BigInt.asUintN(64, DYNAMO_HASH_SEED + addon.xxh3(new TextEncoder().encode(name), 0n));

describe('native module', () => {
  it('says what it is', () => {
    expect(addon.version).toMatch(/^dynamo_native \d+ \(xxHash \d+\.\d+\.\d+, N-API 8\)$/);
  });

  it("hashes prompts as Dynamo does (golden vectors from python3-xxhash), LoRA seeds too", () => {
    for (const v of vectors.sequences) {
      const h = hashBlocks(Uint32Array.from(v.tokens), v.block_size, DYNAMO_HASH_SEED);
      expect(Array.from(h.local, String)).toEqual(v.local);
      expect(Array.from(h.sequence, String)).toEqual(v.sequence);
    }
    for (const v of vectors.lora) {
      expect(String(hashBlocks(Uint32Array.from(v.tokens), v.tokens.length, loraSeed(v.name)).local[0])).toBe(v.hash);
    }
  });

  it('agrees with the hash-wasm hasher on random prompts, block sizes, LoRA adapters and parents', async () => {
    const rand = prng(5);
    for (const blockSize of [1, 3, 16, 32, 64, 100]) {
      for (const lora of [undefined, 'my-adapter', 'sql-lora-😀']) {
        const wasm = await WasmBlockHasher.create(blockSize, lora);
        const seed = lora ? loraSeed(lora) : DYNAMO_HASH_SEED;
        for (let k = 0; k < 5; k++) {
          const tokens = Uint32Array.from({length: Math.floor(rand() * 8 * blockSize)}, () => Math.floor(rand() * 2 ** 32));
          const parent = k % 2 ? BigInt.asUintN(64, BigInt(Math.floor(rand() * 2 ** 53)) << 11n) : undefined;
          const want = wasm.hashAll(tokens, parent);
          const got = hashBlocks(tokens, blockSize, seed, parent);
          expect(got.local).toEqual(BigUint64Array.from(want.local));
          expect(got.sequence).toEqual(BigUint64Array.from(want.sequence));
        }
      }
    }
  });

  it('rejects wrong argument types with a TypeError instead of crashing', () => {
    const ix = addon.indexNew();
    const u64 = new BigUint64Array(2);
    const bad = addon as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(() => bad.hashBlocks!([1, 2], 1, 0n)).toThrow(TypeError);
    expect(() => bad.hashBlocks!(new Uint32Array(4), 0, 0n)).toThrow(TypeError);
    expect(() => bad.hashBlocks!(new Uint32Array(4), 2, 5)).toThrow(TypeError);
    expect(() => bad.indexStore!({}, 0, null, u64, u64)).toThrow(TypeError);
    expect(() => bad.indexStore!(ix, 0, null, u64, new BigUint64Array(1))).toThrow(TypeError);
    expect(() => bad.indexStore!(ix, 0, null, [1n], [2n])).toThrow(TypeError);
    expect(() => bad.indexRemove!(ix, 0, new Uint32Array(2))).toThrow(TypeError);
    expect(() => bad.indexFindMatches!(ix, u64, new Uint32Array(0), new Uint32Array(0))).not.toThrow(); // no workers yet
    addon.indexStore(ix, 3, null, u64, u64);
    expect(() => bad.indexFindMatches!(ix, u64, new Uint32Array(2), new Uint32Array(8))).toThrow(TypeError);
  });
});
