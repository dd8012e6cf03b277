import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {DynamoBlockHasher} from './dynamo-hash.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/xxh3-vectors.json', import.meta.url), 'utf8')) as {
  blocks: {tokens: number[]; hash: string}[];
  sequences: {tokens: number[]; block_size: number; local: string[]; sequence: string[]}[];
  lora: {name: string; tokens: number[]; hash: string}[];
};

describe("Dynamo's block hashing (golden vectors from python3-xxhash)", () => {
  it('hashes blocks of every XXH3 length class exactly', async () => {
    for (const v of vectors.blocks) {
      const h = await DynamoBlockHasher.create(v.tokens.length);
      expect(h.local(v.tokens).toString()).toBe(v.hash);
    }
  });

  it('chains sequence hashes exactly and ignores the partial last block', async () => {
    for (const v of vectors.sequences) {
      const h = await DynamoBlockHasher.create(v.block_size);
      const got = h.hashAll(v.tokens);
      expect(got.local.map(String)).toEqual(v.local);
      expect(got.sequence.map(String)).toEqual(v.sequence);
    }
  });

  it('seeds LoRA requests with the adapter name', async () => {
    for (const v of vectors.lora) {
      const h = await DynamoBlockHasher.create(v.tokens.length, v.name);
      expect(h.local(v.tokens).toString()).toBe(v.hash);
    }
  });
});
