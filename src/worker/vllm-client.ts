/**
 * A worker's requests on its vLLM child, over vLLM's OpenAI server: the request mapping is
 * src/engines/vllm/openai.ts; this is the HTTP and the server-sent events around it.
 *
 * Rules:
 * - One POST per request; the stream is read as it arrives, each `data:` event mapped to a chunk
 *   (empty ones skipped), until `[DONE]` or the end of the body; the finishing chunk carries the
 *   usage chunk's cached-token count.
 * - An HTTP error answers with vLLM's message (its error body), never a bare status.
 * - Cancelling (the signal) aborts the POST: vLLM then aborts the request and frees its blocks.
 * - A prefill is one whole answer: its token, and the hand-off when vLLM kept the blocks.
 */
import type {TokenChunk} from '../engines/token-io.js';
import {type KvTransferParamsBlob, type VllmCompletion, vllmCompletionBody, vllmPrefillResult, vllmStreamChunk} from '../engines/vllm/openai.js';
import type {EngineClient} from './engine-client.js';
import type {GenerateRequest} from './protocol.js';

async function failure(res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  let message = text.trim() || res.statusText;
  try {
    const body = JSON.parse(text) as {message?: string; detail?: string; error?: {message?: string}};
    message = body.message ?? body.error?.message ?? body.detail ?? message;
  } catch {}
  return new Error(`vLLM answered ${res.status}: ${message}`);
}

/** Splits a server-sent event stream into its `data:` payloads. */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(bytes, {stream: true});
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const event = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) yield data;
    }
  }
}

export class VllmClient implements EngineClient {
  constructor(
    private readonly baseUrl: string,
    private readonly model: string,
  ) {}

  /** The request streamed; with a prefill's `handoff` (its kv_transfer_params), decoded from its blocks. */
  async *generate(req: GenerateRequest, opts: {handoff?: KvTransferParamsBlob; signal?: AbortSignal} = {}): AsyncGenerator<TokenChunk> {
    const res = await this.post(vllmCompletionBody(req, this.model, {kvTransferParams: opts.handoff}), opts.signal);
    if (!res.body) return;
    // vLLM reports cached prompt tokens in the usage chunk after the finishing one: the finishing
    // chunk waits for it, so the worker's last chunk says both.
    let finishing: TokenChunk | undefined;
    for await (const data of sseData(res.body)) {
      if (data === '[DONE]') break;
      const chunk = vllmStreamChunk(JSON.parse(data) as VllmCompletion);
      if (!chunk) continue;
      if (finishing) {
        if (chunk.cachedTokens !== undefined) finishing.cachedTokens = chunk.cachedTokens;
        continue;
      }
      if (chunk.finishReason) finishing = chunk;
      else yield chunk;
    }
    if (finishing) yield finishing;
  }

  /** The prefill half of a disaggregated request. */
  async prefill(req: GenerateRequest, signal?: AbortSignal): Promise<{chunk: TokenChunk; handoff?: KvTransferParamsBlob}> {
    const res = await this.post(vllmCompletionBody(req, this.model, {prefill: true}), signal);
    const {chunk, kvTransferParams} = vllmPrefillResult((await res.json()) as VllmCompletion);
    return kvTransferParams ? {chunk, handoff: kvTransferParams} : {chunk};
  }

  private async post(body: unknown, signal?: AbortSignal): Promise<Response> {
    const res = await fetch(`${this.baseUrl}/v1/completions`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body), signal});
    if (!res.ok) throw await failure(res);
    return res;
  }
}
