/**
 * The bench's HTTP client: one streamed OpenAI request, every SSE chunk timestamped on the
 * monotonic clock (performance.now) as it is read. It never throws: a failure is a record with an
 * error kind (http_<status>, connection, timeout, cancelled, stream_error, incomplete_stream,
 * bad_chunk), so nothing is lost from the count.
 */
import type {ChatMessage} from '../tokenizer/chat-template.js';

export interface Target {
  /** Base URL ending in /v1. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  endpoint: 'chat' | 'completions';
  ignoreEos: boolean;
  extraBody: Record<string, unknown>;
  timeoutMs: number;
}

export interface StreamedChunk {
  at: number;
  text: string;
}

export interface Response {
  /** performance.now() just before the request was handed to fetch. */
  start: number;
  chunks: StreamedChunk[];
  text: string;
  usage?: {promptTokens: number; completionTokens: number; cachedTokens?: number};
  status?: number;
  error?: {kind: string; message: string};
}

const contentOf = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : Array.isArray(m.content) ? m.content.map((p) => p.text ?? '').join('') : '';

/** The prompt as text: message contents in order (how completions endpoints and re-tokenizing see it). */
export const promptText = (messages: readonly ChatMessage[]): string => messages.map(contentOf).join('');

export function requestBody(t: Target, messages: readonly ChatMessage[], maxTokens: number): Record<string, unknown> {
  return {
    model: t.model,
    ...(t.endpoint === 'chat' ? {messages} : {prompt: promptText(messages)}),
    max_tokens: maxTokens,
    stream: true,
    stream_options: {include_usage: true},
    ...(t.ignoreEos ? {ignore_eos: true, min_tokens: maxTokens} : {}),
    ...t.extraBody,
  };
}

/** The data of a multi-line SSE event (its data: lines joined). */
const dataOf = (event: string) =>
  event
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trimStart())
    .join('\n');

/** Text a streamed event adds: chat delta content and reasoning, or completion text. */
function eventText(o: any): string {
  const c = o?.choices?.[0];
  if (!c) return '';
  if (typeof c.text === 'string') return c.text;
  const d = c.delta ?? {};
  return (typeof d.reasoning_content === 'string' ? d.reasoning_content : '') + (typeof d.content === 'string' ? d.content : '');
}

export async function streamChat(t: Target, messages: readonly ChatMessage[], maxTokens: number, cancel?: AbortSignal): Promise<Response> {
  const url = `${t.baseUrl}/${t.endpoint === 'chat' ? 'chat/completions' : 'completions'}`;
  const body = JSON.stringify(requestBody(t, messages, maxTokens));
  // One controller, a plain timer and a listener: AbortSignal.timeout/any cost enough per request
  // (timers and signal graphs for the collector) to show in p99 schedule lag at high rates.
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, t.timeoutMs);
  const onCancel = () => abort.abort();
  cancel?.addEventListener('abort', onCancel, {once: true});
  const signal = abort.signal;
  const chunks: StreamedChunk[] = [];
  let text = '';
  let usage: Response['usage'];
  const start = performance.now();
  const fail = (kind: string, message: string, status?: number): Response => ({start, chunks, text, ...(usage ? {usage} : {}), ...(status ? {status} : {}), error: {kind, message}});
  let status: number | undefined;
  if (cancel?.aborted) abort.abort();
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {'content-type': 'application/json', ...(t.apiKey ? {authorization: `Bearer ${t.apiKey}`} : {})},
      body,
      signal,
    });
    status = res.status;
    if (!res.ok) {
      const raw = await res.text().catch(() => '');
      let message = raw.slice(0, 300);
      try {
        message = JSON.parse(raw)?.error?.message ?? message;
      } catch {}
      return fail(`http_${res.status}`, message, res.status);
    }
    if (!res.body) return fail('incomplete_stream', 'response has no body', status);
    const decoder = new TextDecoder();
    let buf = '';
    let done = false;
    for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
      const at = performance.now();
      // Servers may end lines with \r\n; normalized once so events split on a plain indexOf.
      buf = (buf + decoder.decode(bytes, {stream: true})).replace(/\r\n/g, '\n');
      for (let cut = buf.indexOf('\n\n'); cut >= 0; cut = buf.indexOf('\n\n')) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = event.startsWith('data:') && !event.includes('\n') ? event.slice(5).trimStart() : dataOf(event);
        if (!data) continue;
        if (data === '[DONE]') {
          done = true;
          continue;
        }
        let o: any;
        try {
          o = JSON.parse(data);
        } catch {
          return fail('bad_chunk', `not JSON: ${data.slice(0, 120)}`, status);
        }
        if (o.error) return fail('stream_error', String(o.error.message ?? JSON.stringify(o.error)), status);
        if (o.usage) {
          usage = {
            promptTokens: o.usage.prompt_tokens ?? 0,
            completionTokens: o.usage.completion_tokens ?? 0,
            ...(o.usage.prompt_tokens_details?.cached_tokens !== undefined ? {cachedTokens: o.usage.prompt_tokens_details.cached_tokens} : {}),
          };
        }
        const piece = eventText(o);
        chunks.push({at, text: piece});
        text += piece;
      }
    }
    if (!done) return fail('incomplete_stream', 'the stream ended without [DONE]', status);
    return {start, chunks, text, ...(usage ? {usage} : {}), status};
  } catch (e) {
    if (timedOut) return fail('timeout', `no complete reply within ${t.timeoutMs} ms`, status);
    if (cancel?.aborted) return fail('cancelled', 'cancelled before it finished', status);
    const cause = (e as {cause?: {code?: string; message?: string}}).cause;
    // Headers came, then the connection broke: the reply is cut short, not unreachable.
    if (status !== undefined) return fail('incomplete_stream', `the stream broke: ${cause?.code ?? (e as Error).message}`, status);
    return fail('connection', cause?.code ?? cause?.message ?? (e as Error).message, status);
  } finally {
    clearTimeout(timer);
    cancel?.removeEventListener('abort', onCancel);
  }
}
