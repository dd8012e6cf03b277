/**
 * A worker's requests on its vLLM child, over vLLM's OpenAI server: the request mapping is
 * src/engines/vllm/openai.ts, the HTTP and the server-sent events engine-http.ts.
 *
 * - Cancelling (the signal) aborts the POST: vLLM then aborts the request and frees its blocks.
 * - A prefill is one whole answer: its token, and the hand-off when vLLM kept the blocks.
 */
import type {TokenChunk} from '../engines/token-io.js';
import {type KvTransferParamsBlob, type VllmCompletion, vllmCompletionBody, vllmPrefillResult, vllmStreamChunk} from '../engines/vllm/openai.js';
import type {EngineClient} from './engine-client.js';
import {postJson, streamedChunks} from './engine-http.js';
import type {GenerateRequest} from './protocol.js';

export class VllmClient implements EngineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly model: string,
  ) {}

  /** The request streamed; with a prefill's `handoff` (its kv_transfer_params), decoded from its blocks. */
  async *generate(req: GenerateRequest, opts: {handoff?: KvTransferParamsBlob; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    const res = await postJson('vLLM', `${this.baseUrl}/v1/completions`, vllmCompletionBody(req, this.model, {kvTransferParams: opts.handoff}), opts.signal);
    yield* streamedChunks(res, (e: VllmCompletion) => vllmStreamChunk(e));
  }

  /** The prefill half of a disaggregated request. */
  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: KvTransferParamsBlob}> {
    const res = await postJson('vLLM', `${this.baseUrl}/v1/completions`, vllmCompletionBody(req, this.model, {prefill: true}), signal);
    const {chunk, kvTransferParams} = vllmPrefillResult((await res.json()) as VllmCompletion);
    return kvTransferParams ? {chunk, handoff: kvTransferParams} : {chunk};
  }
}
