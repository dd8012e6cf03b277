/**
 * The HTTP both OpenAI-style engine servers (vLLM, TensorRT-LLM) speak to the worker: a JSON POST
 * whose error answers in the engine's own words, and a server-sent event stream read as it arrives.
 *
 * Rules:
 * - An HTTP error is reported with the engine's message (`message`, `error` as text or object, or
 *   FastAPI's `detail`), never a bare status: "<engine> answered 400: …".
 * - A stream is read until `[DONE]` or the end of the body, each `data:` event mapped to a chunk
 *   (empty ones skipped). Engines report cached prompt tokens in a usage chunk after the finishing
 *   one: the finishing chunk waits for it, so the worker's last chunk says both.
 */
import type {TokenChunk} from '../engines/token-io.js';

async function failure(engine: string, res: Response): Promise<Error> {
  const text = await res.text().catch(() => '');
  let message = text.trim() || res.statusText;
  try {
    const body = JSON.parse(text) as {message?: string; detail?: string; error?: string | {message?: string}};
    message = body.message ?? (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.detail ?? message;
  } catch {}
  return new Error(`${engine} answered ${res.status}: ${message}`);
}

export async function postJson(engine: string, url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  const res = await fetch(url, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body), signal});
  if (!res.ok) throw await failure(engine, res);
  return res;
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

/** A streamed answer as token chunks, the finishing one carrying the usage chunk's cached-token count. */
export async function* streamedChunks<T>(res: Response, map: (event: T) => TokenChunk | undefined): AsyncGenerator<TokenChunk> {
  if (!res.body) return;
  let finishing: TokenChunk | undefined;
  for await (const data of sseData(res.body)) {
    if (data === '[DONE]') break;
    const chunk = map(JSON.parse(data) as T);
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
