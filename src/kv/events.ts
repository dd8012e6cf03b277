/**
 * KV cache events as the router consumes them, whatever the source (our mocker workers over the
 * request plane, or vLLM/SGLang over ZMQ). Dynamo's model (lib/kv-router protocols.rs):
 * - `tokensHash` is the block's content hash computed Dynamo's way (XXH3-64 seed 1337 over the
 *   block's tokens); the router walks its prefix tree with it, so engines need not hash alike;
 * - `blockHash` / `parentHash` are the engine's own opaque 64-bit ids, used only to link a stored
 *   block under its parent and to find the blocks later `removed` events name;
 * - `eventId` rises by one per worker (and DP rank) from 0; a jump means events were lost.
 */
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

/** A block as a KV event sink takes it: its content hash and the engine's id for it. */
export interface KvBlockHashes {
  local: bigint;
  seq: bigint;
}

/**
 * KV events as calls, with no event object: how `dynamo replay` wires each mocker engine straight
 * into its router (millions of events per replay). `stored` gives blocks[from … to) under `parent`
 * (undefined = the root). Same meaning as KvEventData, one call per event.
 */
export interface KvEventSink {
  stored(parent: KvBlockHashes | undefined, blocks: readonly KvBlockHashes[], from: number, to: number): void;
  removed(blocks: readonly KvBlockHashes[]): void;
  cleared(): void;
}

/** A sink that builds each event as KvEventData for `onEvent` (the worker's publisher, tests). */
export function eventObjects(onEvent: (e: KvEventData) => void): KvEventSink {
  return {
    stored(parent, blocks, from, to) {
      const out: StoredBlock[] = [];
      for (let i = from; i < to; i++) out.push({blockHash: blocks[i]!.seq, tokensHash: blocks[i]!.local});
      onEvent({type: 'stored', ...(parent === undefined ? {} : {parentHash: parent.seq}), blocks: out});
    },
    removed: (blocks) => onEvent({type: 'removed', blockHashes: blocks.map((b) => b.seq)}),
    cleared: () => onEvent({type: 'cleared'}),
  };
}
