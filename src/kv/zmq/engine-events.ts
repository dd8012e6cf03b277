/**
 * vLLM / SGLang KV event batches (the msgpack payload, third frame of their ZMQ messages) decoded
 * into engine events, as the engine meant them; `to-router-events.ts` turns these into the router's.
 *
 * A batch is `[ts, events, dp_rank?]` (v0.9 had no rank; a map `{ts, events, data_parallel_rank}`
 * is tolerated too). Each event is a tagged array (legacy msgspec `array_like`: `["BlockStored",
 * block_hashes, parent, token_ids, block_size, lora_id, medium, lora_name, extra_keys, group_idx,
 * ...]`) or a map (`{"type": "BlockStored", "block_hashes": ..., ...}`, defaults omitted); both may
 * grow trailing fields or keys, which are ignored, and event types we do not know are skipped.
 * Hashes arrive as uint64, signed int64 (SGLang, TRT-LLM) or raw digest bytes (vLLM with
 * VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0): all become the unsigned 64-bit value vLLM's int mode sends
 * (the digest's last 8 bytes, big-endian).
 */
import {Decoder} from '@msgpack/msgpack';

export type EngineEvent =
  | {
      type: 'BlockStored';
      blockHashes: bigint[];
      parentBlockHash?: bigint;
      tokenIds: number[];
      blockSize: number;
      loraName?: string;
      medium?: string;
      /** KV cache group of hybrid models (vLLM ≥ #37688). */
      groupIdx?: number;
    }
  | {type: 'BlockRemoved'; blockHashes: bigint[]; medium?: string; groupIdx?: number}
  | {type: 'AllBlocksCleared'};

export interface EngineBatch {
  /** Wall-clock seconds at the engine. */
  ts: number;
  events: EngineEvent[];
  dpRank: number;
}

export class EventDecodeError extends Error {}

// 64-bit ints as BigInt: hashes are ≥ 2^53. Bounded arrays: a garbage header must not allocate GBs.
const decoder = new Decoder({useBigInt64: true, maxArrayLength: 1 << 24, maxMapLength: 1 << 16});

/** Any engine hash representation → unsigned 64-bit. */
export function engineHash(v: unknown): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (v instanceof Uint8Array && v.length >= 8) return new DataView(v.buffer, v.byteOffset + v.length - 8, 8).getBigUint64(0, false);
  throw new EventDecodeError(`a block hash must be an integer or digest bytes, got ${v instanceof Uint8Array ? `${v.length} bytes` : typeof v}`);
}

function int(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  throw new EventDecodeError(`${what} must be an integer`);
}

function hashes(v: unknown): bigint[] {
  if (!Array.isArray(v)) throw new EventDecodeError('block_hashes must be a list');
  return v.map(engineHash);
}

/** Optional fields are spread in only when present, so decoded events compare cleanly. */
function optText(key: string, v: unknown): Record<string, string> {
  if (v == null) return {};
  if (typeof v !== 'string') throw new EventDecodeError(`${key} must be a string`);
  return {[key]: v};
}
const optInt = (key: string, v: unknown): Record<string, number> => (v == null ? {} : {[key]: int(v, key)});

/** Field order of the legacy array encoding, after the tag (fields only ever get appended). */
const ARRAY_FIELDS: Record<string, readonly string[]> = {
  BlockStored: ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name', 'extra_keys', 'group_idx'],
  BlockRemoved: ['block_hashes', 'medium', 'group_idx'],
  AllBlocksCleared: [],
};

/** One event's tag and a field reader that works for both encodings. */
function fieldsOf(raw: unknown): {tag: string; get: (name: string) => unknown} {
  if (Array.isArray(raw)) {
    const tag = raw[0];
    if (typeof tag !== 'string') throw new EventDecodeError('an array event must start with its type name');
    const order = ARRAY_FIELDS[tag] ?? [];
    return {tag, get: (name) => raw[order.indexOf(name) + 1]};
  }
  if (raw && typeof raw === 'object') {
    const m = raw as Record<string, unknown>;
    if (typeof m.type !== 'string') throw new EventDecodeError('a map event needs a "type"');
    return {tag: m.type, get: (name) => m[name]};
  }
  throw new EventDecodeError('an event must be an array or a map');
}

function decodeEvent(raw: unknown): EngineEvent | undefined {
  const {tag, get} = fieldsOf(raw);
  if (tag === 'BlockStored') {
    const parent = get('parent_block_hash');
    const tokens = get('token_ids');
    if (!Array.isArray(tokens)) throw new EventDecodeError('token_ids must be a list');
    return {
      type: 'BlockStored',
      blockHashes: hashes(get('block_hashes')),
      ...(parent == null ? {} : {parentBlockHash: engineHash(parent)}),
      // EAGLE-style publishers send [token, next] pairs; the block's own tokens are the firsts.
      tokenIds: tokens.map((t) => int(Array.isArray(t) ? t[0] : t, 'a token id')),
      blockSize: int(get('block_size'), 'block_size'),
      ...optText('loraName', get('lora_name')),
      ...optText('medium', get('medium')),
      ...optInt('groupIdx', get('group_idx')),
    };
  }
  if (tag === 'BlockRemoved') return {type: 'BlockRemoved', blockHashes: hashes(get('block_hashes')), ...optText('medium', get('medium')), ...optInt('groupIdx', get('group_idx'))};
  if (tag === 'AllBlocksCleared') return {type: 'AllBlocksCleared'};
  return undefined; // an event type from a newer engine
}

/** Decodes one batch payload; throws EventDecodeError on anything malformed, whole batch or one event. */
export function decodeEngineBatch(payload: Uint8Array): EngineBatch {
  let raw: unknown;
  try {
    raw = decoder.decode(payload);
  } catch (e) {
    throw new EventDecodeError(`not a msgpack batch: ${(e as Error).message}`);
  }
  let ts: unknown;
  let events: unknown;
  let dp: unknown;
  if (Array.isArray(raw)) [ts, events, dp] = raw;
  else if (raw && typeof raw === 'object') ({ts, events, data_parallel_rank: dp} = raw as Record<string, unknown>);
  if (!Array.isArray(events)) throw new EventDecodeError('a batch must be [ts, events, dp_rank]');
  if (ts != null && typeof ts !== 'number' && typeof ts !== 'bigint') throw new EventDecodeError('ts must be a number');
  return {
    ts: ts == null ? 0 : Number(ts),
    events: events.map(decodeEvent).filter((e): e is EngineEvent => e !== undefined),
    dpRank: dp == null ? 0 : int(dp, 'dp_rank'),
  };
}
