/**
 * Engine events → the router's event data, as Dynamo converts them: the engine's block hashes are
 * kept as opaque ids, and each stored block's content hash (`tokensHash`) is recomputed from its
 * token ids with Dynamo's hasher, so the router's own hashes of incoming prompts meet them whatever
 * hash the engine used. What cannot be indexed correctly is dropped with a reason:
 * - a block size other than the router's (the content hashes would never match a prompt's);
 * - token ids that do not fill the stored blocks exactly;
 * - a stored event naming one block twice, or its own parent (the index would form a loop);
 * - tiers other than the device (GPU) cache: offloaded copies are not what the router's cost models,
 *   and a CPU-tier removal must not forget the GPU copy.
 */
import type {BlockHasher} from '../block-hasher.js';
import {DynamoBlockHasher} from '../dynamo-hash.js';
import type {EngineEvent} from './engine-events.js';
import type {KvEventData} from '../events.js';

export type DropReason = 'block_size_mismatch' | 'token_count_mismatch' | 'duplicate_hash' | 'not_device_tier';

export interface Dropped {
  reason: DropReason;
  detail: string;
}

export interface Converted {
  events: KvEventData[];
  dropped: Dropped[];
}

const DEVICE_MEDIA = new Set(['GPU', 'DEVICE']);

/** `hasherFor(loraName)` gives Dynamo's hasher at the router's block size (LoRA changes the seed). */
export function toRouterEvents(events: readonly EngineEvent[], blockSize: number, hasherFor: (loraName?: string) => BlockHasher): Converted {
  const out: Converted = {events: [], dropped: []};
  for (const e of events) {
    if (e.type === 'AllBlocksCleared') {
      out.events.push({type: 'cleared'});
      continue;
    }
    if (e.medium !== undefined && !DEVICE_MEDIA.has(e.medium.toUpperCase())) {
      out.dropped.push({reason: 'not_device_tier', detail: `${e.type} in the ${e.medium} tier`});
      continue;
    }
    if (e.type === 'BlockRemoved') {
      if (e.blockHashes.length) out.events.push({type: 'removed', blockHashes: e.blockHashes});
      continue;
    }
    if (!e.blockHashes.length) continue;
    if (e.blockSize !== blockSize) {
      out.dropped.push({reason: 'block_size_mismatch', detail: `the engine stores blocks of ${e.blockSize} tokens and the router hashes blocks of ${blockSize}: set the router's block size to the engine's`});
      continue;
    }
    if (e.tokenIds.length !== blockSize * e.blockHashes.length) {
      out.dropped.push({reason: 'token_count_mismatch', detail: `${e.tokenIds.length} token ids for ${e.blockHashes.length} blocks of ${blockSize}`});
      continue;
    }
    const seen = new Set(e.blockHashes);
    if (seen.size !== e.blockHashes.length || (e.parentBlockHash !== undefined && seen.has(e.parentBlockHash))) {
      out.dropped.push({reason: 'duplicate_hash', detail: 'a stored event names the same block twice, or a block as its own parent'});
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

/**
 * Dynamo hashers by LoRA adapter name, made on first use. Making one is async (WASM or the native
 * module), conversion is not: `prepare` the names a batch uses, then convert with `get`.
 */
export class LoraHashers {
  private readonly ready = new Map<string, BlockHasher>();
  private readonly making = new Map<string, Promise<void>>();

  constructor(
    readonly blockSize: number,
    private readonly create: (blockSize: number, loraName?: string) => Promise<BlockHasher> = DynamoBlockHasher.create,
    /** Adapters remembered at once; a flood of names (garbage input) evicts the oldest. */
    private readonly maxAdapters = 256,
  ) {}

  /** The hasher for an adapter (none: the base model); it must have been prepared. */
  get(loraName?: string): BlockHasher {
    const h = this.ready.get(loraName ?? '');
    if (!h) throw new Error(`no hasher prepared for LoRA "${loraName}"`);
    return h;
  }

  /** Makes the missing hashers; undefined when all exist, so the common case stays synchronous. */
  prepare(loraNames: Iterable<string | undefined>): Promise<void> | undefined {
    const waits: Promise<void>[] = [];
    for (const name of loraNames) {
      const key = name ?? '';
      if (this.ready.has(key)) continue;
      let making = this.making.get(key);
      if (!making) {
        making = this.create(this.blockSize, name).then((h) => {
          if (this.ready.size > this.maxAdapters) this.ready.delete([...this.ready.keys()].find((k) => k !== '')!);
          this.ready.set(key, h);
        });
        const forget = () => this.making.delete(key);
        making.then(forget, forget);
        this.making.set(key, making);
      }
      waits.push(making);
    }
    return waits.length ? Promise.all(waits).then(() => {}) : undefined;
  }
}

/** The adapter names a batch's stored events hash with (undefined: the base model). */
export function loraNamesOf(events: readonly EngineEvent[]): Set<string | undefined> {
  const names = new Set<string | undefined>();
  for (const e of events) if (e.type === 'BlockStored') names.add(e.loraName);
  return names;
}
