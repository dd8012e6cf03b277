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
