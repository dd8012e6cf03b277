import {decode, encode} from '@msgpack/msgpack';
import {describe, expect, it} from 'vitest';
import {type KvEventData, type KvEventSink, eventObjects} from './events.js';
import {type WireEvent, applyWire, toWire, wireEvents} from './wire.js';

/** A wire event as the router gets it: through msgpack, out of an odd offset of a larger Buffer (as a socket's chunk would be). */
const overTheWire = (w: WireEvent): WireEvent => decode(Buffer.concat([Buffer.alloc(3), Buffer.from(encode(w))]).subarray(3)) as WireEvent;

const asObject = (w: WireEvent): KvEventData => {
  let out: KvEventData | undefined;
  applyWire(w, eventObjects((e) => (out = e)));
  return out!;
};

const events: KvEventData[] = [
  {type: 'stored', blocks: [{blockHash: 2n ** 64n - 1n, tokensHash: 1n}]},
  {type: 'stored', parentHash: 0xdeadbeefcafebaben, blocks: [{blockHash: 3n, tokensHash: 2n ** 63n}, {blockHash: 4n, tokensHash: 5n}]},
  {type: 'removed', blockHashes: [7n, 2n ** 53n + 1n]},
  {type: 'cleared'},
];

/** Replays `events` as sink calls with words (as a block manager makes them). */
function asCalls(sink: KvEventSink): void {
  for (const e of events) {
    if (e.type === 'stored') {
      const words = (hs: bigint[]) => new Uint32Array(new BigUint64Array(hs).buffer);
      // Padded with a block on each side: only blocks [1, n + 1) belong to the event.
      const pad = (hs: bigint[]) => words([99n, ...hs, 98n]);
      const parent = e.parentHash === undefined ? undefined : Array.from(words([e.parentHash]));
      sink.stored(parent, pad(e.blocks.map((b) => b.tokensHash)), pad(e.blocks.map((b) => b.blockHash)), 1, e.blocks.length + 1);
    } else if (e.type === 'removed') sink.removed(new Uint32Array(new BigUint64Array([...e.blockHashes, 97n]).buffer), e.blockHashes.length);
    else sink.cleared();
  }
}

describe('KV events on the wire', () => {
  it('round-trips every event type through msgpack with full 64-bit hashes, from unaligned Buffers too', () => {
    expect(events.map((e) => asObject(overTheWire(toWire(e))))).toEqual(events);
  });

  it("a block manager's calls pack to the same bytes as the events they stand for", () => {
    const packed: WireEvent[] = [];
    asCalls(wireEvents((w) => packed.push(w)));
    expect(packed).toEqual(events.map((e) => toWire(e)));
    expect(packed.map((w) => asObject(overTheWire(w)))).toEqual(events);
  });

  it('rejects a malformed stored event', () => {
    const sink = eventObjects(() => {});
    expect(() => applyWire({type: 'stored', blocks: new Uint8Array(8), tokens: new Uint8Array(16)}, sink)).toThrow(/counts differ/);
    expect(() => applyWire({type: 'removed', blocks: new Uint8Array(5)}, sink)).toThrow(/multiple of 8/);
    expect(() => applyWire({type: 'stored', parent: new Uint8Array(16), blocks: new Uint8Array(8), tokens: new Uint8Array(8)}, sink)).toThrow(/parent of 2/);
    expect(() => applyWire({type: 'moved'} as unknown as WireEvent, sink)).toThrow(/unknown KV event type moved/);
  });
});
