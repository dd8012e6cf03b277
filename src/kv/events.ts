/**
 * KV cache events as the router consumes them, whatever the source (our mocker workers over the
 * request plane, or vLLM/SGLang over ZMQ). Dynamo's model (lib/kv-router protocols.rs):
 * - `tokensHash` is the block's content hash computed Dynamo's way (XXH3-64 seed 1337 over the
 *   block's tokens); the router walks its prefix tree with it, so engines need not hash alike;
 * - `blockHash` / `parentHash` are the engine's own opaque 64-bit ids, used only to link a stored
 *   block under its parent and to find the blocks later `removed` events name;
 * - `eventId` rises by one per worker (and DP rank) from 0; a jump means events were lost.
 */
import {wordsHash} from './block-list.js';

export interface StoredBlock {
  blockHash: bigint;
  tokensHash: bigint;
}

export type KvEventData =
  | {type: 'stored'; parentHash?: bigint; blocks: StoredBlock[]}
  | {type: 'removed'; blockHashes: bigint[]}
  | {type: 'cleared'};

export interface KvEvent {
  eventId: number;
  dpRank: number;
  data: KvEventData;
}

/**
 * KV events as calls, with no event object: how `dynamo replay` wires each mocker engine straight
 * into its router (millions of events per replay). Hashes come as 32-bit words, low then high
 * (a BlockList's word views; see block-list.ts). Same meaning as KvEventData, one call per event:
 * - `stored`: blocks [from, to) of the `local` and `sequence` words, under the block whose
 *   sequence hash is the words `parent` (undefined = the root);
 * - `removed`: the first `count` blocks of the `sequence` words.
 */
export interface KvEventSink {
  stored(parent: ArrayLike<number> | undefined, local: Uint32Array, sequence: Uint32Array, from: number, to: number): void;
  removed(sequence: Uint32Array, count: number): void;
  cleared(): void;
}

/** A sink that builds each event as KvEventData for `onEvent` (the worker's publisher, tests). */
export function eventObjects(onEvent: (e: KvEventData) => void): KvEventSink {
  return {
    stored(parent, local, sequence, from, to) {
      const out: StoredBlock[] = [];
      for (let i = from; i < to; i++) out.push({blockHash: wordsHash(sequence[2 * i]!, sequence[2 * i + 1]!), tokensHash: wordsHash(local[2 * i]!, local[2 * i + 1]!)});
      onEvent({type: 'stored', ...(parent === undefined ? {} : {parentHash: wordsHash(parent[0]!, parent[1]!)}), blocks: out});
    },
    removed(sequence, count) {
      const blockHashes: bigint[] = [];
      for (let i = 0; i < count; i++) blockHashes.push(wordsHash(sequence[2 * i]!, sequence[2 * i + 1]!));
      onEvent({type: 'removed', blockHashes});
    },
    cleared: () => onEvent({type: 'cleared'}),
  };
}
