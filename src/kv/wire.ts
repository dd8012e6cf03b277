/**
 * KV events on our own event plane (worker → router, over the request plane's msgpack frames).
 * 64-bit hashes travel as packed little-endian bytes: msgpack would turn them into doubles or, with
 * BigInt decoding on, turn every large integer of every frame into a BigInt.
 *
 * A subscription stream carries messages in order:
 *   {reset: true, next}     the router must forget the worker's blocks; `next` is the next event id
 *   {events: WireEvent[]}   consecutive events
 * A snapshot is a reset followed by stored events without ids (they are state, not history).
 * Both ends keep hashes as 32-bit words (`wireEvents`, `applyWire`): the bytes on the wire are those
 * words, so a block manager's event reaches the router's index with no BigInt and no object per block.
 */
import type {KvEventData, KvEventSink} from './events.js';

export interface WireEvent {
  /** Event id; absent for snapshot entries. */
  id?: number;
  dp?: number;
  type: 'stored' | 'removed' | 'cleared';
  parent?: Uint8Array;
  /** Engine (external) block ids. */
  blocks?: Uint8Array;
  /** Dynamo content hashes of the stored blocks. */
  tokens?: Uint8Array;
}

export type WireMessage = {reset: true; next: number; snapshot?: WireEvent[]} | {events: WireEvent[]};

// Byte and word views here share an ArrayBuffer made first: asking a typed array made on its own
// for its `.buffer` makes JSC build one for it, which costs more than the copy.

export function packU64(values: readonly bigint[]): Uint8Array {
  const buffer = new ArrayBuffer(values.length * 8);
  const a = new BigUint64Array(buffer);
  for (let i = 0; i < values.length; i++) a[i] = values[i]!;
  return new Uint8Array(buffer);
}

/** Words [2·from, 2·to) of `words` (hashes as low, high words) as the wire's bytes: a copy (the caller may reuse `words`). */
function wordBytes(words: ArrayLike<number>, from: number, to: number): Uint8Array {
  const buffer = new ArrayBuffer(8 * (to - from));
  const out = new Uint32Array(buffer);
  if (words instanceof Uint32Array) out.set(words.subarray(2 * from, 2 * to));
  else for (let i = 0; i < out.length; i++) out[i] = words[2 * from + i]!;
  return new Uint8Array(buffer);
}

/** The wire's hash bytes as words: a view where aligned, else a copy (a decoded frame's bytes may sit at any offset). */
function bytesWords(bytes: Uint8Array | undefined): Uint32Array {
  if (!bytes) return new Uint32Array(0);
  if (bytes.length % 8) throw new Error(`malformed KV event: ${bytes.length} hash bytes is not a multiple of 8`);
  if (bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return new Uint32Array(buffer);
}

/** A sink that packs each event for the wire (a worker's publisher): the engine's words become the wire's bytes. */
export function wireEvents(onWire: (w: WireEvent) => void): KvEventSink {
  return {
    stored(parent, local, sequence, from, to) {
      onWire({type: 'stored', ...(parent === undefined ? {} : {parent: wordBytes(parent, 0, 1)}), blocks: wordBytes(sequence, from, to), tokens: wordBytes(local, from, to)});
    },
    removed: (sequence, count) => onWire({type: 'removed', blocks: wordBytes(sequence, 0, count)}),
    cleared: () => onWire({type: 'cleared'}),
  };
}

/** One wire event into a sink (the router's queue of index updates), as words. */
export function applyWire(w: WireEvent, sink: KvEventSink): void {
  if (w.type === 'stored') {
    const sequence = bytesWords(w.blocks);
    const local = bytesWords(w.tokens);
    if (sequence.length !== local.length) throw new Error('malformed stored event: block and token hash counts differ');
    const parent = w.parent && bytesWords(w.parent);
    if (parent && parent.length !== 2) throw new Error(`malformed stored event: a parent of ${parent.length / 2} hashes`);
    sink.stored(parent, local, sequence, 0, sequence.length / 2);
  } else if (w.type === 'removed') {
    const sequence = bytesWords(w.blocks);
    sink.removed(sequence, sequence.length / 2);
  } else if (w.type === 'cleared') sink.cleared();
  else throw new Error(`unknown KV event type ${String((w as {type: unknown}).type)}`);
}

export function toWire(data: KvEventData, id?: number, dpRank = 0): WireEvent {
  const base = {...(id === undefined ? {} : {id}), ...(dpRank ? {dp: dpRank} : {})};
  if (data.type === 'stored') {
    return {
      ...base,
      type: 'stored',
      ...(data.parentHash === undefined ? {} : {parent: packU64([data.parentHash])}),
      blocks: packU64(data.blocks.map((b) => b.blockHash)),
      tokens: packU64(data.blocks.map((b) => b.tokensHash)),
    };
  }
  if (data.type === 'removed') return {...base, type: 'removed', blocks: packU64(data.blockHashes)};
  return {...base, type: 'cleared'};
}
