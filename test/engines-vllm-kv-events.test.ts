/**
 * The stand-in vLLM's KV events against the golden vectors of ../shared/reference/peers.md: block
 * hashes by sha256_cbor with PYTHONHASHSEED=0 (§2.4), and the batch bytes in both encodings (§1.5).
 * Our decoder reads what it writes back to the same events.
 */
import {describe, expect, it} from 'vitest';
import {decodeEngineBatch} from '../src/kv/zmq/engine-events.js';
import {NONE_HASH, blockDigest, encodeBatch, eventHash} from './fixtures/engines/vllm-kv-events.js';

const hex = (s: string) => s.replace(/\s+/g, '');
const tokens = (from: number) => Array.from({length: 16}, (_, i) => from + i);
const TS = 1700000000.5;

describe('vLLM KV events, as the stand-in writes them', () => {
  it('hashes blocks as vLLM does with sha256_cbor and seed 0', () => {
    expect(NONE_HASH.toString('hex')).toBe('4e1195df020de59e0d65a33a4279f1183e7ae4e5d980e309f8b55adff2e61c3e');
    const b1 = blockDigest(undefined, tokens(1));
    expect(b1.toString('hex')).toBe('202da172482d928bbc42ab25b0151e2b895f13f41002e27b2ceabcfae6d332ea');
    expect(eventHash(b1)).toBe(3236607068019569386n);
    const b2 = blockDigest(b1, tokens(17));
    expect(b2.toString('hex')).toBe('4a0a393805c6d2f0ed831000d41bb65980336c4c04895d5e26470bbec927f5bf');
    expect(eventHash(b2)).toBe(2758186210834249151n);
  });

  const stored = {type: 'BlockStored' as const, hashes: [0x2ceabcfae6d332ean], tokenIds: tokens(1), blockSize: 16};

  it('writes the legacy batch byte for byte (array events, every field)', () => {
    expect(Buffer.from(encodeBatch(TS, [stored], 0, 'legacy')).toString('hex')).toBe(
      hex('93 cb41d954fc40200000 91 9a ab426c6f636b53746f726564 91cf2ceabcfae6d332ea c0 dc0010 0102030405060708090a0b0c0d0e0f10 10 c0 a3475055 c0 c0 c0 00'),
    );
    expect(Buffer.from(encodeBatch(TS, [{type: 'BlockRemoved', hashes: [0x2ceabcfae6d332ean]}], 0, 'legacy')).toString('hex')).toBe(
      hex(`93 cb41d954fc40200000 91 94 ac${Buffer.from('BlockRemoved').toString('hex')} 91cf2ceabcfae6d332ea a3475055 c0 00`),
    );
    expect(Buffer.from(encodeBatch(TS, [{type: 'AllBlocksCleared'}], 0, 'legacy')).toString('hex')).toBe(hex(`93 cb41d954fc40200000 91 91 b0${Buffer.from('AllBlocksCleared').toString('hex')} 00`));
  });

  it('writes the current batch byte for byte (map events, defaults omitted)', () => {
    expect(Buffer.from(encodeBatch(TS, [stored], 0, 'current')).toString('hex')).toBe(
      hex(`93 cb41d954fc40200000 91 8b a474797065 ab426c6f636b53746f726564 ac626c6f636b5f686173686573 91cf2ceabcfae6d332ea
        b1706172656e745f626c6f636b5f68617368 c0 a9746f6b656e5f696473 dc0010 0102030405060708090a0b0c0d0e0f10 aa626c6f636b5f73697a65 10
        a76c6f72615f6964 c0 a66d656469756d a3475055 a96c6f72615f6e616d65 c0 aa65787472615f6b657973 91c0
        a967726f75705f696478 00 b26b765f63616368655f737065635f6b696e64 ae66756c6c5f617474656e74696f6e 00`),
    );
  });

  it('reads back, in either encoding, as the events written', () => {
    for (const encoding of ['legacy', 'current'] as const) {
      const batch = decodeEngineBatch(Buffer.from(encodeBatch(TS, [stored, {type: 'BlockRemoved', hashes: [7n]}, {type: 'AllBlocksCleared'}], 3, encoding)));
      expect(batch.ts).toBe(TS);
      expect(batch.dpRank).toBe(3);
      expect(batch.events).toMatchObject([
        {type: 'BlockStored', blockHashes: [0x2ceabcfae6d332ean], tokenIds: tokens(1), blockSize: 16, medium: 'GPU'},
        {type: 'BlockRemoved', blockHashes: [7n]},
        {type: 'AllBlocksCleared'},
      ]);
    }
  });
});
