import {beforeAll, describe, expect, it} from 'vitest';
import {DynamoBlockHasher} from '../dynamo-hash.js';
import {EventDecodeError, decodeEngineBatch, engineHash, toRouterEvents} from './vllm-wire.js';

/** Hex with spaces, and `"text"` for msgpack fixstr bodies, as peers.md §1.5 writes them. */
const bytes = (s: string) => Buffer.from(s.replace(/"([^"]*)"/g, (_, t: string) => Buffer.from(t).toString('hex')).replace(/\s+/g, ''), 'hex');

const TS = 'cb41d954fc40200000'; // float64 1700000000.5
const HASH = 3236607068019569386n; // 0x2ceabcfae6d332ea: tokens 1..16, sha256_cbor, PYTHONHASHSEED=0
const TOKENS_1_16 = 'dc0010 0102030405060708090a0b0c0d0e0f10';

describe('vLLM KV event batches (golden bytes of peers.md §1.5)', () => {
  it('decodes BlockStored, legacy array encoding', () => {
    const b = decodeEngineBatch(bytes(`93 ${TS} 91 9a ab426c6f636b53746f726564 91cf2ceabcfae6d332ea c0 ${TOKENS_1_16} 10 c0 a3475055 c0 c0 c0 00`));
    expect(b).toEqual({
      ts: 1700000000.5,
      dpRank: 0,
      events: [{type: 'BlockStored', blockHashes: [HASH], tokenIds: Array.from({length: 16}, (_, i) => i + 1), blockSize: 16, medium: 'GPU'}],
    });
  });

  it('decodes BlockStored, current map encoding', () => {
    const hex = `93 ${TS} 91 8b a474797065 ab426c6f636b53746f726564 ac626c6f636b5f686173686573 91cf2ceabcfae6d332ea
      b1706172656e745f626c6f636b5f68617368 c0 a9746f6b656e5f696473 ${TOKENS_1_16} aa626c6f636b5f73697a65 10
      a76c6f72615f6964 c0 a66d656469756d a3475055 a96c6f72615f6e616d65 c0 aa65787472615f6b657973 91c0
      a967726f75705f696478 00 b26b765f63616368655f737065635f6b696e64 ae66756c6c5f617474656e74696f6e 00`;
    const b = decodeEngineBatch(bytes(hex));
    expect(b.events).toEqual([{type: 'BlockStored', blockHashes: [HASH], tokenIds: Array.from({length: 16}, (_, i) => i + 1), blockSize: 16, medium: 'GPU'}]);
    expect(b.dpRank).toBe(0);
  });

  it('decodes BlockRemoved and AllBlocksCleared, both encodings', () => {
    const removed = {type: 'BlockRemoved', blockHashes: [HASH], medium: 'GPU'};
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 94 ac"BlockRemoved" 91cf2ceabcfae6d332ea a3"GPU" c0 00`)).events).toEqual([removed]);
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 84 a4"type" ac"BlockRemoved" ac"block_hashes" 91cf2ceabcfae6d332ea a6"medium" a3"GPU" a9"group_idx" 00 00`)).events).toEqual([removed]);
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 91 b0"AllBlocksCleared" 00`)).events).toEqual([{type: 'AllBlocksCleared'}]);
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 81 a4"type" b0"AllBlocksCleared" 00`)).events).toEqual([{type: 'AllBlocksCleared'}]);
  });

  it('accepts v0.9 two-element batches, a map batch, parents, signed and byte hashes; skips unknown event types', () => {
    expect(decodeEngineBatch(bytes(`92 ${TS} 91 91 b0"AllBlocksCleared"`))).toMatchObject({dpRank: 0, events: [{type: 'AllBlocksCleared'}]});
    const map = decodeEngineBatch(bytes(`83 a2"ts" ${TS} a6"events" 91 91 b0"AllBlocksCleared" b2"data_parallel_rank" 02`));
    expect(map.dpRank).toBe(2);
    // SGLang-style signed int64 −1, and a 32-byte digest: both to the u64 vLLM would send.
    expect(engineHash(-1n)).toBe(2n ** 64n - 1n);
    expect(engineHash(Buffer.from('202da172482d928bbc42ab25b0151e2b895f13f41002e27b2ceabcfae6d332ea', 'hex'))).toBe(HASH);
    const withParent = decodeEngineBatch(bytes(`93 ${TS} 91 96 ab"BlockStored" 91 01 d3ffffffffffffffff 92 05 06 02 c0 00`));
    expect(withParent.events[0]).toEqual({type: 'BlockStored', blockHashes: [1n], parentBlockHash: 2n ** 64n - 1n, tokenIds: [5, 6], blockSize: 2});
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 91 a7"Unknown" 00`)).events).toEqual([]);
  });

  it('rejects garbage with a decode error', () => {
    for (const bad of ['c1', '93 00 01 02', `93 ${TS} 91 92 ab"BlockStored" 05 00`]) expect(() => decodeEngineBatch(bytes(bad))).toThrow(EventDecodeError);
  });
});

describe('engine events → router events', () => {
  let h16: DynamoBlockHasher;
  let lora: DynamoBlockHasher;
  beforeAll(async () => {
    h16 = await DynamoBlockHasher.create(16);
    lora = await DynamoBlockHasher.create(16, 'my-adapter');
  });
  const tokens = Array.from({length: 32}, (_, i) => i + 1);

  it('keeps engine hashes as ids and recomputes Dynamo content hashes from the token ids (LoRA seeds too)', () => {
    const c = toRouterEvents([{type: 'BlockStored', blockHashes: [7n, 8n], parentBlockHash: 6n, tokenIds: tokens, blockSize: 16}], 16, (l) => (l ? lora : h16));
    expect(c.events).toEqual([{type: 'stored', parentHash: 6n, blocks: [{blockHash: 7n, tokensHash: h16.local(tokens, 0)}, {blockHash: 8n, tokensHash: h16.local(tokens, 16)}]}]);
    const l = toRouterEvents([{type: 'BlockStored', blockHashes: [9n], tokenIds: tokens.slice(0, 16), blockSize: 16, loraName: 'my-adapter'}], 16, (n) => (n ? lora : h16));
    expect((l.events[0] as {blocks: {tokensHash: bigint}[]}).blocks[0]!.tokensHash).toBe(lora.local(tokens, 0));
    expect(lora.local(tokens, 0)).not.toBe(h16.local(tokens, 0));
  });

  it('drops what Dynamo drops, saying why', () => {
    const c = toRouterEvents(
      [
        {type: 'BlockStored', blockHashes: [1n], tokenIds: tokens.slice(0, 16), blockSize: 32},
        {type: 'BlockStored', blockHashes: [1n, 2n], tokenIds: tokens.slice(0, 16), blockSize: 16},
        {type: 'BlockStored', blockHashes: [1n, 1n], tokenIds: tokens, blockSize: 16},
        {type: 'BlockStored', blockHashes: [3n], parentBlockHash: 3n, tokenIds: tokens.slice(0, 16), blockSize: 16},
        {type: 'BlockRemoved', blockHashes: [1n], medium: 'CPU_PINNED'},
        {type: 'BlockRemoved', blockHashes: [1n], medium: 'GPU'},
        {type: 'AllBlocksCleared'},
      ],
      16,
      () => h16,
    );
    expect(c.dropped.map((d) => d.reason)).toEqual(['block_size_mismatch', 'token_count_mismatch', 'duplicate_hash', 'duplicate_hash', 'not_device_tier']);
    expect(c.dropped[0]!.detail).toMatch(/--router-block-size/);
    expect(c.events).toEqual([{type: 'removed', blockHashes: [1n]}, {type: 'cleared'}]);
  });
});
