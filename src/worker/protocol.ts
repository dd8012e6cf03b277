/**
 * What travels on the request plane between the frontend and a worker (msgpack bodies).
 * The frontend tokenizes; workers see token ids only, as in Dynamo.
 */
import type {TokenChunk, TokenRequest} from '../engines/token-io.js';
import type {KvTransferParams} from './kv-transfer.js';

export type {KvTransferParams};

/**
 * A real engine's hand-off from prefill to decode (vLLM's kv_transfer_params, …), carried verbatim
 * by the frontend: `engine` says whose fields `params` holds.
 */
export interface EngineHandoff {
  engine: string;
  params: Record<string, unknown>;
}

/** What a prefill worker's last chunk hands the decode worker: the mocker's leased blocks, or an engine's fields. */
export type Handoff = KvTransferParams | EngineHandoff;

export function isEngineHandoff(v: unknown): v is EngineHandoff {
  const h = v as Partial<EngineHandoff> | null;
  return !!h && typeof h === 'object' && typeof h.engine === 'string' && !!h.params && typeof h.params === 'object' && !Array.isArray(h.params);
}
/** Token ids and sampling (engines/token-io.ts), and what the request plane adds. */
export interface GenerateRequest extends TokenRequest {
  requestId: string;
  /** When the frontend received the request (epoch ms): the worker's TTFT histogram starts here. */
  arrivedAt?: number;
  /**
   * For simulated engines only (real engines read the prompt): the request offered tools and the
   * simulated model should call this one.
   */
  mockToolCall?: string;
  /** Decode workers: the prompt's KV blocks wait on this prefill worker (its last chunk said where). */
  kvTransfer?: Handoff;
  /**
   * A migrated request (src/frontend/migration.ts): another worker began it. `tokenIds` is the
   * original prompt (its first `promptTokens`) then the `generatedTokens` already sent to the
   * client; maxTokens and minTokens are what is left. Real engines just continue from tokenIds; the
   * mocker rebuilds the original request's output and carries on where it stopped, so a migrated
   * reply equals an undisturbed one.
   */
  resumed?: Resumed;
}

export interface Resumed {
  promptTokens: number;
  generatedTokens: number;
  /** The original request's limits. */
  maxTokens: number;
  minTokens?: number;
}

export interface GenerateChunk extends TokenChunk {
  /** A prefill worker's last chunk: where the prompt's KV blocks are held for the decode worker. */
  kvTransfer?: Handoff;
}

export function validateGenerateRequest(body: unknown): GenerateRequest | string {
  const r = body as Partial<GenerateRequest> | null;
  if (!r || typeof r !== 'object') return 'request body must be an object';
  if (typeof r.requestId !== 'string' || !r.requestId) return 'requestId must be a non-empty string';
  if (!Array.isArray(r.tokenIds) || !r.tokenIds.length) return 'tokenIds must be a non-empty array';
  if (!Number.isInteger(r.maxTokens) || r.maxTokens! < 1) return 'maxTokens must be a positive integer';
  return r as GenerateRequest;
}

/** A router subscribing to the worker's KV events from an event id (none: start with a snapshot). */
export interface KvEventSubscription {
  kind: 'kv_events';
  from?: number;
  /** false: end the stream once caught up (live events come from the NATS event plane). Default true. */
  live?: boolean;
}

export function isKvEventSubscription(body: unknown): body is KvEventSubscription {
  const b = body as Partial<KvEventSubscription> | null;
  return !!b && typeof b === 'object' && b.kind === 'kv_events' && (b.from === undefined || (Number.isInteger(b.from) && b.from >= 0)) && (b.live === undefined || typeof b.live === 'boolean');
}
