import {beforeAll, describe, expect, it} from 'vitest';
import type {BlockHasher} from '../block-hasher.js';
import {DynamoBlockHasher} from '../dynamo-hash.js';
import {EventIds} from './event-ids.js';
import {LoraHashers, loraNamesOf, toRouterEvents} from './to-router-events.js';

describe('engine events → router events', () => {
  let base: BlockHasher;
  let lora: BlockHasher;
  beforeAll(async () => {
    base = await DynamoBlockHasher.create(16);
    lora = await DynamoBlockHasher.create(16, 'my-adapter');
  });
  const tokens = Array.from({length: 32}, (_, i) => i + 1);
  const hasherFor = (name?: string) => (name ? lora : base);

  it("keeps the engine's hashes as ids and recomputes Dynamo's content hash of each block's tokens", () => {
    const c = toRouterEvents([{type: 'BlockStored', blockHashes: [7n, 8n], parentBlockHash: 6n, tokenIds: tokens, blockSize: 16, medium: 'GPU'}], 16, hasherFor);
    expect(c).toStrictEqual({
      dropped: [],
      events: [{type: 'stored', parentHash: 6n, blocks: [{blockHash: 7n, tokensHash: base.local(tokens, 0)}, {blockHash: 8n, tokensHash: base.local(tokens, 16)}]}],
    });
  });

  it('hashes adapter blocks with the LoRA seed, so they never match base-model prompts', () => {
    const c = toRouterEvents([{type: 'BlockStored', blockHashes: [9n], tokenIds: tokens.slice(0, 16), blockSize: 16, loraName: 'my-adapter'}], 16, hasherFor);
    const tokensHash = (c.events[0] as {blocks: {tokensHash: bigint}[]}).blocks[0]!.tokensHash;
    expect(tokensHash).toBe(lora.local(tokens, 0));
    expect(tokensHash).not.toBe(base.local(tokens, 0));
  });

  it('drops what cannot be indexed, saying why, and keeps the rest in order', () => {
    const c = toRouterEvents(
      [
        {type: 'BlockStored', blockHashes: [1n], tokenIds: tokens.slice(0, 16), blockSize: 32},
        {type: 'BlockStored', blockHashes: [1n, 2n], tokenIds: tokens.slice(0, 16), blockSize: 16},
        {type: 'BlockStored', blockHashes: [1n, 1n], tokenIds: tokens, blockSize: 16},
        {type: 'BlockStored', blockHashes: [3n], parentBlockHash: 3n, tokenIds: tokens.slice(0, 16), blockSize: 16},
        {type: 'BlockStored', blockHashes: [4n], tokenIds: tokens.slice(0, 16), blockSize: 16, medium: 'cpu_pinned'},
        {type: 'BlockRemoved', blockHashes: [1n], medium: 'DISK'},
        {type: 'BlockRemoved', blockHashes: [1n], medium: 'GPU'},
        {type: 'BlockStored', blockHashes: [], tokenIds: [], blockSize: 16},
        {type: 'AllBlocksCleared'},
      ],
      16,
      hasherFor,
    );
    expect(c.dropped.map((d) => d.reason)).toEqual(['block_size_mismatch', 'token_count_mismatch', 'duplicate_hash', 'duplicate_hash', 'not_device_tier', 'not_device_tier']);
    expect(c.dropped[0]!.detail).toMatch(/blocks of 32 tokens.*blocks of 16/);
    expect(c.events).toStrictEqual([{type: 'removed', blockHashes: [1n]}, {type: 'cleared'}]);
  });
});

describe('LoRA hashers', () => {
  it('makes one hasher per adapter name, once, even when asked concurrently, then answers synchronously', async () => {
    const made: (string | undefined)[] = [];
    const hashers = new LoraHashers(16, async (size, name) => {
      made.push(name);
      return DynamoBlockHasher.create(size, name);
    });
    expect(() => hashers.get('a')).toThrow(/no hasher/);
    await Promise.all([hashers.prepare(loraNamesOf([{type: 'BlockStored', blockHashes: [1n], tokenIds: [], blockSize: 16, loraName: 'a'}])), hashers.prepare(['a', undefined])]);
    expect(made.sort()).toEqual(['a', undefined]);
    expect(hashers.prepare(['a', undefined])).toBeUndefined();
    expect(hashers.get('a').blockSize).toBe(16);
    expect(hashers.get().local([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])).not.toBe(hashers.get('a').local([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
  });

  it('tries again after a failed creation', async () => {
    let fail = true;
    const hashers = new LoraHashers(16, async (size, name) => {
      if (fail) throw new Error('no wasm');
      return DynamoBlockHasher.create(size, name);
    });
    await expect(hashers.prepare(['x'])).rejects.toThrow('no wasm');
    fail = false;
    await hashers.prepare(['x']);
    expect(hashers.get('x')).toBeDefined();
  });
});

describe('event ids', () => {
  it('count from 0 per DP rank, and skip one on every rank when batches are lost', () => {
    const ids = new EventIds();
    expect([ids.take(0), ids.take(0), ids.take(1), ids.take(0)]).toEqual([0, 1, 0, 2]);
    ids.skip();
    expect([ids.take(0), ids.take(1), ids.take(2)]).toEqual([4, 2, 0]);
    expect(ids.ranks()).toEqual([0, 1, 2]);
  });
});
