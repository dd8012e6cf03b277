import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {native} from '../native/index.js';
import type {BlockHasher} from './block-hasher.js';
import {NativeBlockHasher, WasmBlockHasher} from './dynamo-hash.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/xxh3-vectors.json', import.meta.url), 'utf8')) as {
  blocks: {tokens: number[]; hash: string}[];
  sequences: {tokens: number[]; block_size: number; local: string[]; sequence: string[]}[];
  lora: {name: string; tokens: number[]; hash: string}[];
};

const implementations: [string, (blockSize: number, lora?: string) => Promise<BlockHasher>][] = [
  ['wasm', (bs, lora) => WasmBlockHasher.create(bs, lora)],
  // The addon is built by `npm run setup` and the test setup: its absence is a failure here.
  ['native', async (bs, lora) => NativeBlockHasher.create(native ?? (() => { throw new Error('the native addon is not built'); })(), bs, lora)],
];

describe.each(implementations)("Dynamo's block hashing, %s (golden vectors from python3-xxhash)", (_name, create) => {
  it('hashes blocks of every XXH3 length class exactly', async () => {
    for (const v of vectors.blocks) {
      const h = await create(v.tokens.length);
      expect(h.local(v.tokens).toString()).toBe(v.hash);
    }
  });

  it('chains sequence hashes exactly and ignores the partial last block', async () => {
    for (const v of vectors.sequences) {
      const h = await create(v.block_size);
      const got = h.hashAll(v.tokens);
      expect(Array.from(got.local, String)).toEqual(v.local);
      expect(Array.from(got.sequence, String)).toEqual(v.sequence);
      // One block at a time gives the same.
      for (let b = 0; b < v.local.length; b++) expect(String(h.local(v.tokens, b * v.block_size))).toBe(v.local[b]);
      for (let b = 1; b < v.local.length; b++) expect(String(h.sequence(BigInt(v.sequence[b - 1]!), BigInt(v.local[b]!)))).toBe(v.sequence[b]);
      // A continuation chained to the first block's hash gives the rest of the sequence.
      if (v.local.length > 1) expect(Array.from(h.hashAll(v.tokens.slice(v.block_size), BigInt(v.sequence[0]!)).sequence, String)).toEqual(v.sequence.slice(1));
    }
  });

  it('seeds LoRA requests with the adapter name', async () => {
    for (const v of vectors.lora) {
      const h = await create(v.tokens.length, v.name);
      expect(h.local(v.tokens).toString()).toBe(v.hash);
    }
  });
});
