/**
 * KV events on our own event plane (worker → router, over the request plane's msgpack frames).
 * 64-bit hashes travel as packed little-endian bytes: msgpack would turn them into doubles or, with
 * BigInt decoding on, turn every large integer of every frame into a BigInt.
 *
 * A subscription stream carries messages in order:
 *   {reset: true, next}     the router must forget the worker's blocks; `next` is the next event id
 *   {events: WireEvent[]}   consecutive events
 * A snapshot is a reset followed by stored events without ids (they are state, not history).
 */
import type {KvEvent, KvEventData} from './events.js';

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

export function packU64(values: readonly bigint[]): Uint8Array {
  const a = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = values[i]!;
  return new Uint8Array(a.buffer);
}

export function unpackU64(bytes: Uint8Array): bigint[] {
  if (bytes.length % 8) throw new Error(`malformed KV event: ${bytes.length} hash bytes is not a multiple of 8`);
  // Copy (new Uint8Array copies even a Buffer, whose slice() would not): a decoded view may be unaligned.
  const a = new BigUint64Array(new Uint8Array(bytes).buffer);
  return Array.from(a);
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

export function fromWire(w: WireEvent): KvEventData {
  if (w.type === 'stored') {
    const blocks = unpackU64(w.blocks ?? new Uint8Array());
    const tokens = unpackU64(w.tokens ?? new Uint8Array());
    if (blocks.length !== tokens.length) throw new Error('malformed stored event: block and token hash counts differ');
    return {type: 'stored', ...(w.parent ? {parentHash: unpackU64(w.parent)[0]!} : {}), blocks: blocks.map((blockHash, i) => ({blockHash, tokensHash: tokens[i]!}))};
  }
  if (w.type === 'removed') return {type: 'removed', blockHashes: unpackU64(w.blocks ?? new Uint8Array())};
  if (w.type === 'cleared') return {type: 'cleared'};
  throw new Error(`unknown KV event type ${String((w as {type: unknown}).type)}`);
}

export function eventFromWire(w: WireEvent): KvEvent {
  return {eventId: w.id ?? -1, dpRank: w.dp ?? 0, data: fromWire(w)};
}
