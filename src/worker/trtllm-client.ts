/**
 * A worker's requests on its TensorRT-LLM child, over `trtllm-serve`'s OpenAI server: the request
 * mapping is src/engines/trtllm/openai.ts; this is the HTTP and the server-sent events around it,
 * shaped as VllmClient is.
 *
 * Rules:
 * - One POST per request; the stream is read as it arrives, each `data:` event mapped to a chunk
 *   (empty ones skipped), until `[DONE]` or the end of the body.
 * - An HTTP error answers with TensorRT-LLM's message, never a bare status: its ErrorResponse
 *   (`{message, type, code}`), or a request that failed validation (`{"error": "<pydantic text>"}`).
 * - Cancelling (the signal) aborts the POST: the server sees the client gone and aborts the request.
 * - A prefill is the context-only half: its first token, and the context's `disaggregated_params`
 *   as the hand-off when generation is still to run.
 */
import type {TokenChunk} from '../engines/token-io.js';
import {type DisaggregatedParamsBlob, type TrtllmCompletion, trtllmCompletionBody, trtllmContextResult, trtllmStreamChunk} from '../engines/trtllm/openai.js';
import type {EngineClient} from './engine-client.js';
import type {GenerateRequest} from './protocol.js';
import {sseData} from './vllm-client.js';

async function failure(res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  let message = text.trim() || res.statusText;
  try {
    const body = JSON.parse(text) as {message?: string; detail?: string; error?: string | {message?: string}};
    message = body.message ?? (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.detail ?? message;
  } catch {}
  return new Error(`TensorRT-LLM answered ${res.status}: ${message}`);
}

export class TrtllmClient implements EngineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly model: string,
  ) {}

  /** The request streamed; with a context phase's `handoff` (its disaggregated_params), generation only. */
  async *generate(req: GenerateRequest, opts: {handoff?: DisaggregatedParamsBlob; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    const res = await this.post(trtllmCompletionBody(req, this.model, {disaggregatedParams: opts.handoff}), opts.signal);
    if (!res.body) return;
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') return;
      const chunk = trtllmStreamChunk(JSON.parse(data) as TrtllmCompletion);
      if (chunk) yield chunk;
    }
  }

  /** The context-only half of a disaggregated request. */
  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: DisaggregatedParamsBlob}> {
    const res = await this.post(trtllmCompletionBody(req, this.model, {contextOnly: true}), signal);
    const {chunk, disaggregatedParams} = trtllmContextResult((await res.json()) as TrtllmCompletion);
    return disaggregatedParams ? {chunk, handoff: disaggregatedParams} : {chunk};
  }

  private async post(body: unknown, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(`${this.baseUrl}/v1/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body), signal});
    if (!res.ok) throw await failure(res);
    return res;
  }
}
