import {encode, decode} from '@msgpack/msgpack';
import {describe, expect, it} from 'vitest';
import type {KvEventData} from './events.js';
import {eventFromWire, fromWire, toWire} from './wire.js';

describe('KV events on the wire', () => {
  it('round-trips every event type through msgpack with full 64-bit hashes, from unaligned Buffers too', () => {
    const events: KvEventData[] = [
      {type: 'stored', blocks: [{blockHash: 2n ** 64n - 1n, tokensHash: 1n}]},
      {type: 'stored', parentHash: 0xdeadbeefcafebaben, blocks: [{blockHash: 3n, tokensHash: 2n ** 63n}, {blockHash: 4n, tokensHash: 5n}]},
      {type: 'removed', blockHashes: [7n, 2n ** 53n + 1n]},
      {type: 'cleared'},
    ];
    for (const [i, e] of events.entries()) {
      const bytes = Buffer.from(encode(toWire(e, i)));
      // Decode out of an odd offset of a larger Buffer, as a socket's chunk would be.
      const big = Buffer.concat([Buffer.alloc(3), bytes]);
      const w = decode(big.subarray(3)) as ReturnType<typeof toWire>;
      expect(fromWire(w)).toEqual(e);
      expect(eventFromWire(w).eventId).toBe(i);
    }
  });

  it('rejects a malformed stored event', () => {
    expect(() => fromWire({type: 'stored', blocks: new Uint8Array(8), tokens: new Uint8Array(16)})).toThrow(/counts differ/);
    expect(() => fromWire({type: 'removed', blocks: new Uint8Array(5)})).toThrow(/multiple of 8/);
  });
});
