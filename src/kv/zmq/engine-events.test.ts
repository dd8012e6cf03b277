import {Encoder} from '@msgpack/msgpack';
import {describe, expect, it} from 'vitest';
import {type EngineEvent, EventDecodeError, decodeEngineBatch, engineHash} from './engine-events.js';

/** Hex with spaces, and `"text"` for a msgpack string body, as peers.md §1.5 writes its bytes. */
const bytes = (s: string) => Buffer.from(s.replace(/"([^"]*)"/g, (_, t: string) => Buffer.from(t).toString('hex')).replace(/\s+/g, ''), 'hex');

const TS = 'cb41d954fc40200000'; // float64 1700000000.5
const HASH = 3236607068019569386n; // 0x2ceabcfae6d332ea: tokens 1..16, sha256_cbor, PYTHONHASHSEED=0
const TOKENS = Array.from({length: 16}, (_, i) => i + 1);
const TOKENS_HEX = 'dc0010 0102030405060708090a0b0c0d0e0f10';

describe('vLLM KV event batches: every golden byte example of peers.md §1.5', () => {
  it('decodes BlockStored in the legacy array encoding', () => {
    const hex = `93 ${TS} 91 9a ab426c6f636b53746f726564 91cf2ceabcfae6d332ea c0
      ${TOKENS_HEX} 10 c0 a3475055 c0 c0 c0 00`;
    expect(decodeEngineBatch(bytes(hex))).toStrictEqual({
      ts: 1700000000.5,
      dpRank: 0,
      events: [{type: 'BlockStored', blockHashes: [HASH], tokenIds: TOKENS, blockSize: 16, medium: 'GPU'}],
    });
  });

  it('decodes BlockStored in the current map encoding (vLLM 0.26)', () => {
    const hex = `93 ${TS} 91 8b a474797065 ab426c6f636b53746f726564 ac626c6f636b5f686173686573 91cf2ceabcfae6d332ea
      b1706172656e745f626c6f636b5f68617368 c0 a9746f6b656e5f696473 ${TOKENS_HEX} aa626c6f636b5f73697a65 10
      a76c6f72615f6964 c0 a66d656469756d a3475055 a96c6f72615f6e616d65 c0 aa65787472615f6b657973 91c0
      a967726f75705f696478 00 b26b765f63616368655f737065635f6b696e64 ae66756c6c5f617474656e74696f6e 00`;
    expect(decodeEngineBatch(bytes(hex))).toStrictEqual({
      ts: 1700000000.5,
      dpRank: 0,
      events: [{type: 'BlockStored', blockHashes: [HASH], tokenIds: TOKENS, blockSize: 16, medium: 'GPU', groupIdx: 0}],
    });
  });

  it('decodes BlockRemoved in both encodings', () => {
    const legacy = decodeEngineBatch(bytes(`93 ${TS} 91 94 ac"BlockRemoved" 91cf2ceabcfae6d332ea a3"GPU" c0 00`));
    expect(legacy).toStrictEqual({ts: 1700000000.5, dpRank: 0, events: [{type: 'BlockRemoved', blockHashes: [HASH], medium: 'GPU'}]});
    const current = decodeEngineBatch(bytes(`93 ${TS} 91 84 a4"type" ac"BlockRemoved" ac"block_hashes" 91cf2ceabcfae6d332ea a6"medium" a3"GPU" a9"group_idx" 00 00`));
    expect(current).toStrictEqual({ts: 1700000000.5, dpRank: 0, events: [{type: 'BlockRemoved', blockHashes: [HASH], medium: 'GPU', groupIdx: 0}]});
  });

  it('decodes AllBlocksCleared in both encodings', () => {
    const cleared = {ts: 1700000000.5, dpRank: 0, events: [{type: 'AllBlocksCleared'}]};
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 91 b0"AllBlocksCleared" 00`))).toStrictEqual(cleared);
    expect(decodeEngineBatch(bytes(`93 ${TS} 91 81 a4"type" b0"AllBlocksCleared" 00`))).toStrictEqual(cleared);
  });
});

describe('other engine shapes', () => {
  const enc = new Encoder({useBigInt64: true});
  const batch = (events: unknown[], dp: unknown = 0) => decodeEngineBatch(enc.encode([1.5, events, dp]));

  it('reads v0.9 two-element batches and map batches with their DP rank', () => {
    expect(decodeEngineBatch(bytes(`92 ${TS} 91 91 b0"AllBlocksCleared"`))).toStrictEqual({ts: 1700000000.5, dpRank: 0, events: [{type: 'AllBlocksCleared'}]});
    const map = decodeEngineBatch(bytes(`83 a2"ts" ${TS} a6"events" 91 91 b0"AllBlocksCleared" b2"data_parallel_rank" 02`));
    expect(map.dpRank).toBe(2);
  });

  it('turns SGLang signed int64, small ints and digest bytes into the unsigned 64-bit hash vLLM would send', () => {
    expect(engineHash(-1n)).toBe(2n ** 64n - 1n);
    expect(engineHash(-5)).toBe(2n ** 64n - 5n);
    expect(engineHash(7)).toBe(7n);
    expect(engineHash(Buffer.from('202da172482d928bbc42ab25b0151e2b895f13f41002e27b2ceabcfae6d332ea', 'hex'))).toBe(HASH);
    // The same through msgpack: int64 0xd3 for the parent, bin 0xc4 for a block.
    const b = decodeEngineBatch(bytes(`93 ${TS} 91 96 ab"BlockStored" 92 01 c408 2ceabcfae6d332ea d3ffffffffffffffff 92 05 06 01 c0 00`));
    expect(b.events).toStrictEqual([{type: 'BlockStored', blockHashes: [1n, HASH], parentBlockHash: 2n ** 64n - 1n, tokenIds: [5, 6], blockSize: 1}]);
  });

  it('ignores trailing fields and unknown keys, and skips event types it does not know', () => {
    const legacy12 = ['BlockStored', [HASH], 9n, TOKENS, 16, null, 'GPU', 'adapter', null, 3, 'full_attention', null];
    const sglangMap = {type: 'BlockStored', block_hashes: [-2n], parent_block_hash: null, token_ids: TOKENS, block_size: 16, medium: 'CPU_PINNED', metadata: {cache_salt: 'x'}, locality: 1};
    const events: EngineEvent[] = [
      {type: 'BlockStored', blockHashes: [HASH], parentBlockHash: 9n, tokenIds: TOKENS, blockSize: 16, medium: 'GPU', loraName: 'adapter', groupIdx: 3},
      {type: 'BlockStored', blockHashes: [2n ** 64n - 2n], tokenIds: TOKENS, blockSize: 16, medium: 'CPU_PINNED'},
      {type: 'BlockRemoved', blockHashes: [4n]},
    ];
    expect(batch([legacy12, sglangMap, ['BlockRemoved', [4n], null, null, 'extra'], ['SomethingNew', 1], {type: 'AlsoNew'}]).events).toStrictEqual(events);
    expect(batch([['BlockStored', [1n], null, [[5, 6], [6, 7]], 2, null]]).events[0]).toMatchObject({tokenIds: [5, 6]});
  });

  it('rejects garbage with a decode error, never another exception', () => {
    const bad = [
      'c1', // not msgpack
      '93 00 01 02', // events not a list
      `93 ${TS} 91 92 ab"BlockStored" 05`, // hashes not a list
      `93 ${TS} 91 96 ab"BlockStored" 91 01 c0 91 a1"x" 01 c0 00`, // a token id that is a string
      `93 ${TS} 91 92 ac"BlockRemoved" 91 c403 010203`, // a 3-byte digest
      `93 ${TS} 91 92 ab"BlockStored" 91 cb3ff8000000000000`, // a float hash
      `93 ${TS} 91 05 00`, // an event that is a number
      `93 ${TS} 91 81 a4"kind" 00 00`, // a map event without a type
      `93 a1"x" 90 00`, // ts a string
      'dd ffffffff', // an array header claiming 4 billion items
      '',
    ];
    for (const hex of bad) expect(() => decodeEngineBatch(bytes(hex)), hex).toThrow(EventDecodeError);
  });
});
