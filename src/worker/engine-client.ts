/**
 * What the worker asks of a real engine's server, whichever engine it is: a request streamed in
 * token ids, and the prefill half of a disaggregated request, whose `handoff` (the engine's own
 * hand-off fields: vLLM's kv_transfer_params, SGLang's bootstrap, TensorRT-LLM's
 * disaggregated_params) the decode worker's engine is then given. Each engine's client maps these
 * to its HTTP API (vllm-client.ts).
 */
import type {TokenChunk} from '../engines/token-io.js';
import type {GenerateRequest} from './protocol.js';

export type EngineHandoffParams = Record<string, unknown>;

export interface EngineClient {
  generate(req: GenerateRequest, opts?: {handoff?: EngineHandoffParams; signal?: AbortSignal}): AsyncGenerator<TokenChunk>;
  /** The prefill half; no `handoff` when the engine kept nothing (the decode side then prefills itself). */
  prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: EngineHandoffParams}>;
  /** Resolves when work that outlives its request is done (SGLang's prefills run on after the hand-off). */
  settled?(): Promise<void>;
}
