/**
 * vLLM / SGLang KV event batches (the msgpack payload of their ZMQ messages) → the router's events.
 *
 * A batch is `[ts, events, dp_rank?]` (a map is tolerated too). Each event is either a tagged array
 * (legacy msgspec `array_like`: `["BlockStored", block_hashes, parent, token_ids, block_size,
 * lora_id, medium, lora_name, ...]`) or a map (`{"type": "BlockStored", "block_hashes": ..., ...}`);
 * both may grow trailing fields, which are ignored. Hashes arrive as uint64, signed int64
 * (SGLang, TRT-LLM) or raw digest bytes (vLLM with VLLM_KV_EVENTS_USE_INT_BLOCK_HASHES=0): all become
 * the unsigned 64-bit value vLLM itself would send (the digest's last 8 bytes, big-endian).
 *
 * Conversion follows Dynamo: the engine's hashes are opaque ids; each stored block's content hash
 * is recomputed from its token ids with Dynamo's hasher, so requests hashed by the router match.
 */
import {Decoder} from '@msgpack/msgpack';
import type {BlockHasher} from '../block-hasher.js';
import type {KvEventData} from './types.js';

export type EngineEvent =
  | {type: 'BlockStored'; blockHashes: bigint[]; parentBlockHash?: bigint; tokenIds: number[]; blockSize: number; loraName?: string; medium?: string}
  | {type: 'BlockRemoved'; blockHashes: bigint[]; medium?: string}
  | {type: 'AllBlocksCleared'};

export interface EngineBatch {
  ts: number;
  events: EngineEvent[];
  dpRank: number;
}

export class EventDecodeError extends Error {}

const decoder = new Decoder({useBigInt64: true});

/** Any engine hash representation → unsigned 64-bit. */
export function engineHash(v: unknown): bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt.asUintN(64, BigInt(v));
  if (v instanceof Uint8Array && v.length >= 8) {
    const tail = new DataView(v.buffer, v.byteOffset + v.length - 8, 8);
    return tail.getBigUint64(0, false);
  }
  throw new EventDecodeError(`a block hash must be an integer or digest bytes, got ${typeof v}`);
}

const num = (v: unknown, what: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new EventDecodeError(`${what} must be a number`);
};
const hashes = (v: unknown): bigint[] => {
  if (!Array.isArray(v)) throw new EventDecodeError('block_hashes must be a list');
  return v.map(engineHash);
};
const optString = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Field order of the legacy array encoding (after the tag). */
const STORED_FIELDS = ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name'] as const;
const REMOVED_FIELDS = ['block_hashes', 'medium'] as const;

function fieldsOf(raw: unknown): {tag: string; get: (name: string) => unknown} {
  if (Array.isArray(raw)) {
    const tag = raw[0];
    if (typeof tag !== 'string') throw new EventDecodeError('an array event must start with its type name');
    const order: readonly string[] = tag === 'BlockStored' ? STORED_FIELDS : tag === 'BlockRemoved' ? REMOVED_FIELDS : [];
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
      // EAGLE-style publishers send [token, next] pairs; the block's tokens are the firsts.
      tokenIds: tokens.map((t) => num(Array.isArray(t) ? t[0] : t, 'a token id')),
      blockSize: num(get('block_size'), 'block_size'),
      ...(optString(get('lora_name')) ? {loraName: optString(get('lora_name'))} : {}),
      ...(optString(get('medium')) ? {medium: optString(get('medium'))} : {}),
    };
  }
  if (tag === 'BlockRemoved') return {type: 'BlockRemoved', blockHashes: hashes(get('block_hashes')), ...(optString(get('medium')) ? {medium: optString(get('medium'))} : {})};
  if (tag === 'AllBlocksCleared') return {type: 'AllBlocksCleared'};
  return undefined; // an event type from a newer engine: skip it
}

/** Decodes one batch payload; throws EventDecodeError on anything malformed. */
export function decodeEngineBatch(payload: Uint8Array): EngineBatch {
  let raw: unknown;
  try {
    raw = decoder.decode(payload);
  } catch (e) {
    throw new EventDecodeError(`not msgpack: ${(e as Error).message}`);
  }
  let ts: unknown;
  let events: unknown;
  let dp: unknown;
  if (Array.isArray(raw)) [ts, events, dp] = raw;
  else if (raw && typeof raw === 'object') ({ts, events, data_parallel_rank: dp} = raw as Record<string, unknown>);
  if (!Array.isArray(events)) throw new EventDecodeError('a batch must be [ts, events, dp_rank]');
  return {
    ts: ts == null ? 0 : num(ts, 'ts'),
    events: events.map(decodeEvent).filter((e): e is EngineEvent => e !== undefined),
    dpRank: dp == null ? 0 : num(dp, 'dp_rank'),
  };
}

/** Why an engine event was not applied (Dynamo drops these with a warning). */
export type DropReason = 'block_size_mismatch' | 'token_count_mismatch' | 'duplicate_hash' | 'not_device_tier';

export interface Converted {
  events: KvEventData[];
  dropped: {reason: DropReason; detail: string}[];
}

/**
 * Engine events → router events. `hasherFor(loraName)` gives Dynamo's hasher for the router's
 * block size (the seed changes with a LoRA adapter). Only device-tier (GPU) blocks are indexed:
 * offloaded tiers are not what the router's cost models.
 */
export function toRouterEvents(events: readonly EngineEvent[], blockSize: number, hasherFor: (lora?: string) => BlockHasher): Converted {
  const out: Converted = {events: [], dropped: []};
  for (const e of events) {
    if (e.type === 'AllBlocksCleared') {
      out.events.push({type: 'cleared'});
      continue;
    }
    if (e.medium && !['GPU', 'DEVICE'].includes(e.medium.toUpperCase())) {
      out.dropped.push({reason: 'not_device_tier', detail: `medium ${e.medium}`});
      continue;
    }
    if (e.type === 'BlockRemoved') {
      out.events.push({type: 'removed', blockHashes: e.blockHashes});
      continue;
    }
    if (e.blockSize !== blockSize) {
      out.dropped.push({reason: 'block_size_mismatch', detail: `engine blocks of ${e.blockSize} tokens, router blocks of ${blockSize}: set --router-block-size to the engine's block size`});
      continue;
    }
    if (e.tokenIds.length !== blockSize * e.blockHashes.length) {
      out.dropped.push({reason: 'token_count_mismatch', detail: `${e.tokenIds.length} tokens for ${e.blockHashes.length} blocks of ${blockSize}`});
      continue;
    }
    const seen = new Set(e.blockHashes);
    if (seen.size !== e.blockHashes.length || (e.parentBlockHash !== undefined && seen.has(e.parentBlockHash))) {
      out.dropped.push({reason: 'duplicate_hash', detail: 'a stored event names the same block twice'});
      continue;
    }
    const hasher = hasherFor(e.loraName);
    out.events.push({
      type: 'stored',
      ...(e.parentBlockHash === undefined ? {} : {parentHash: e.parentBlockHash}),
      blocks: e.blockHashes.map((blockHash, i) => ({blockHash, tokensHash: hasher.local(e.tokenIds, i * blockSize)})),
    });
  }
  return out;
}
