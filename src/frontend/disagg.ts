/**
 * Disaggregated serving, the frontend's half (Dynamo's synchronous path, as for vLLM): once the
 * decode worker is chosen, decide whether to prefill elsewhere; if so, route the prompt to a
 * prefill worker (KV-aware over the prefill pool), await its one token, and hand the decode worker
 * where the prompt's KV blocks are held (worker/kv-transfer.ts pulls them).
 *
 * Rules (Dynamo's conditional disaggregation, `dynamo.md` §4):
 * - no prefill worker up: aggregated on the decode worker;
 * - the prompt's part the decode worker does not cache is at most `maxLocalPrefillLength` tokens:
 *   prefilled locally;
 * - the chosen prefill worker already has `maxPrefillQueueSize` requests: locally;
 * - a prefill that fails, times out or holds nothing: locally (the client never sees it).
 * The prefill is not tied to the client's connection: it runs to completion and its blocks are
 * released by the decode worker's pull or by their lease, never left behind.
 */
import type {RouteDecision} from '../router/policy.js';
import type {GenerateChunk, GenerateRequest, Handoff} from '../worker/protocol.js';
import type {GenerationDeps, GenerationInput} from './generate.js';

export interface DisaggSettings {
  maxLocalPrefillLength: number;
  /** 0: no limit. */
  maxPrefillQueueSize: number;
  /** Tokens per KV block (the router's and the workers'). */
  blockSize: number;
  /** A prefill that takes longer is given up (the decode worker prefills). */
  prefillTimeoutMs?: number;
}

export type PrefillOutcome =
  | {remote: true; kvTransfer: Handoff; prefillWorker: string}
  | {remote: false; why: 'no_prefill_worker' | 'short_prompt' | 'prefill_queue_full' | 'prefill_failed' | 'nothing_held'; prefillWorker?: string; error?: string};

/** Where the request's prefill happens, and for a remote one, its hand-off. */
export async function prefillFirst(deps: GenerationDeps, disagg: DisaggSettings, requestId: string, input: GenerationInput, decode: RouteDecision): Promise<PrefillOutcome> {
  const prefillers = deps.pool.snapshot(['prefill']);
  if (!prefillers.length) return {remote: false, why: 'no_prefill_worker'};
  const uncached = input.promptTokens.length - (decode.overlapBlocks ?? 0) * disagg.blockSize;
  if (uncached <= disagg.maxLocalPrefillLength) return {remote: false, why: 'short_prompt'};
  // Booked under its own id: the same request is also active on its decode worker.
  const id = `${requestId}#prefill`;
  const choice = deps.router.choose({id, tokens: input.promptTokens, overrides: input.routing}, prefillers);
  if (!choice) return {remote: false, why: 'no_prefill_worker'};
  const worker = choice.workerId;
  try {
    const queued = prefillers.find((w) => w.id === worker)?.inFlight ?? 0;
    if (disagg.maxPrefillQueueSize > 0 && queued >= disagg.maxPrefillQueueSize) return {remote: false, why: 'prefill_queue_full', prefillWorker: worker};
    const body: GenerateRequest = {
      requestId: input.requestId,
      tokenIds: input.promptTokens,
      maxTokens: 1,
      seed: input.seed,
      temperature: input.temperature,
      topP: input.topP,
      ignoreEos: true,
      arrivedAt: input.arrivedAt,
    };
    let kvTransfer: Handoff | undefined;
    let first = true;
    for await (const raw of deps.pool.call(worker, body, AbortSignal.timeout(disagg.prefillTimeoutMs ?? 60_000))) {
      const chunk = raw as GenerateChunk;
      if (first) deps.router.firstToken(id);
      first = false;
      if (chunk.kvTransfer) kvTransfer = chunk.kvTransfer;
    }
    return kvTransfer ? {remote: true, kvTransfer, prefillWorker: worker} : {remote: false, why: 'nothing_held', prefillWorker: worker};
  } catch (e) {
    return {remote: false, why: 'prefill_failed', prefillWorker: worker, error: e instanceof Error ? e.message : String(e)};
  } finally {
    deps.router.done(id);
  }
}
