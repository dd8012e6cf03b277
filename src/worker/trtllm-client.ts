/**
 * A worker's requests on its TensorRT-LLM child, over `trtllm-serve`'s OpenAI server: the request
 * mapping is src/engines/trtllm/openai.ts, the HTTP and the server-sent events engine-http.ts
 * (errors in TensorRT-LLM's words: its ErrorResponse `{message, …}`, or a request that failed
 * validation, `{"error": "<pydantic text>"}`).
 *
 * - Cancelling (the signal) aborts the POST: the server sees the client gone and aborts the request.
 * - A prefill is the context-only half: its first token, and the context's `disaggregated_params`
 *   as the hand-off when generation is still to run.
 */
import type {TokenChunk} from '../engines/token-io.js';
import {type DisaggregatedParamsBlob, type TrtllmCompletion, trtllmCompletionBody, trtllmContextResult, trtllmStreamChunk} from '../engines/trtllm/openai.js';
import type {EngineClient} from './engine-client.js';
import type {GenerateRequest} from './protocol.js';
import {postJson, streamedChunks} from './engine-http.js';

export class TrtllmClient implements EngineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly model: string,
  ) {}

  /** The request streamed; with a context phase's `handoff` (its disaggregated_params), generation only. */
  async *generate(req: GenerateRequest, opts: {handoff?: DisaggregatedParamsBlob; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    const res = await this.post(trtllmCompletionBody(req, this.model, {disaggregatedParams: opts.handoff}), opts.signal);
    yield* streamedChunks(res, (e: TrtllmCompletion) => trtllmStreamChunk(e));
  }

  /** The context-only half of a disaggregated request. */
  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: DisaggregatedParamsBlob}> {
    const res = await this.post(trtllmCompletionBody(req, this.model, {contextOnly: true}), signal);
    const {chunk, disaggregatedParams} = trtllmContextResult((await res.json()) as TrtllmCompletion);
    return disaggregatedParams ? {chunk, handoff: disaggregatedParams} : {chunk};
  }

  private post(body: unknown, signal?: AbortSignal): Promise<Response> {
    return postJson('TensorRT-LLM', `${this.baseUrl}/v1/completions`, body, signal);
  }
}
