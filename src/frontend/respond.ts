/**
 * Turns a generation into the OpenAI reply the request asked for: one JSON body, or an SSE stream
 * (a role chunk first for chat, in the write of the first tokens; a finish chunk, a usage chunk
 * with include_usage, then [DONE]).
 * Chat replies go through the postprocessor (reasoning, tool calls); a reply that called tools
 * finishes with `tool_calls`, as OpenAI reports it. `visible` is called once, when the first token
 * the client will see (content, reasoning or a tool call) is ready: that moment is the TTFT users see.
 */
import {type ChatDelta, ChatPostprocessor} from './chat-postprocess.js';
import {ServeError, errorBody, toServeError} from './errors.js';
import {ChatFrames, CompletionFrames, chatCompletion, completion} from './format.js';
import type {GenerationEvent} from './generate.js';
import {type HttpHeaders, type HttpReply, jsonReply} from './http.js';
import type {ShapedRequest} from './request-shaping.js';
import {SSE_DONE, SSE_HEADERS, sseEvent} from './sse.js';

type Events = AsyncIterable<GenerationEvent>;

export interface ReplyHooks {
  /** Each of the generation's events, as it arrives, before the reply uses it (metrics). */
  heard(ev: GenerationEvent): void;
  /** The first client-visible token is ready. */
  visible(): void;
}

const postprocessorOf = (r: ShapedRequest) => r.chat && new ChatPostprocessor(r.chat.reasoningParser, r.chat.toolsOffered);

const finishOf = (post: ChatPostprocessor | undefined, reason: string) => (post?.toolCalls && reason === 'stop' ? 'tool_calls' : reason);

export async function unaryReply(r: ShapedRequest, events: Events, headers: HttpHeaders, hooks: ReplyHooks): Promise<HttpReply> {
  const post = postprocessorOf(r);
  let text = '';
  let seen = false;
  for await (const ev of events) {
    hooks.heard(ev);
    if (ev.kind === 'text') {
      if (!post) text += ev.text;
      const shown = post ? post.push(ev.text).length > 0 : ev.text.length > 0;
      if (shown && !seen) {
        seen = true;
        hooks.visible();
      }
      continue;
    }
    if (post?.flush().length && !seen) hooks.visible();
    return jsonReply(200, post ? chatCompletion(r.meta, post.message(), finishOf(post, ev.reason), ev.usage) : completion(r.meta, text, ev.reason, ev.usage), headers);
  }
  throw new Error('the generation ended without a finish event');
}

/**
 * The SSE reply. Its frames are produced as the consumer (the HTTP server) pulls them; `settled`
 * hears how it ended: undefined when complete, else the failure (a client that left: cancelled).
 * A failure after the 200 goes out in-band as an error event, then [DONE].
 */
export function streamReply(
  r: ShapedRequest,
  events: Events,
  headers: HttpHeaders,
  signal: AbortSignal,
  hooks: ReplyHooks & {settled(error: ServeError | undefined): void},
): HttpReply {
  const post = postprocessorOf(r);
  const frames = post ? new ChatFrames(r.meta) : new CompletionFrames(r.meta);
  const deltas = (ds: ChatDelta[]) => {
    let out = '';
    for (const d of ds) out += (frames as ChatFrames).delta(d);
    return out;
  };
  /** The frames of one event: everything one engine chunk produced leaves in one write. */
  const framesOf = (ev: GenerationEvent): {shown: string; rest: string} => {
    if (ev.kind === 'text') return {shown: post ? deltas(post.push(ev.text)) : ev.text ? (frames as CompletionFrames).text(ev.text) : '', rest: ''};
    const shown = post ? deltas(post.flush()) : '';
    return {shown, rest: frames.finish(finishOf(post, ev.reason)) + (r.includeUsage ? frames.usage(ev.usage) : '')};
  };
  // The generation starts now, before the server writes the headers: the request is on its way to
  // the worker while this process writes them (on another core, the worker's work overlaps ours).
  const source = events[Symbol.asyncIterator]();
  let next = source.next();
  next.catch(() => {}); // awaited below; this keeps a failure before the first pull from counting as unhandled
  // The role chunk leaves with the first tokens, as vLLM and Dynamo send it, not in a write of its own.
  let lead = post ? (frames as ChatFrames).delta({role: 'assistant', content: ''}) : '';
  const led = (text: string) => {
    const out = lead + text;
    lead = '';
    return out;
  };
  async function* sse(): AsyncGenerator<string> {
    let outcome: {error?: ServeError} | undefined;
    let seen = false;
    try {
      try {
        for (let step = await next; !step.done; step = await next) {
          const ev = step.value;
          hooks.heard(ev);
          const {shown, rest} = framesOf(ev);
          if (shown && !seen) {
            seen = true;
            hooks.visible();
          }
          if (ev.kind === 'finish') {
            // The finish is the last event: [DONE] leaves in the same write (one syscall, one wake-up of the client).
            outcome = {};
            yield led(shown + rest + SSE_DONE);
            return;
          }
          if (shown || rest) yield led(shown + rest);
          next = source.next();
        }
        outcome = {};
      } catch (e) {
        outcome = {error: toServeError(e)};
      }
      if (outcome.error && !signal.aborted) yield led(sseEvent(errorBody(outcome.error)));
      yield led(SSE_DONE);
    } finally {
      // Stopped early (the client went away, or the finish came): the generation is told to stop.
      void source.return?.(undefined)?.catch(() => {});
      // No outcome: the consumer stopped pulling, because the client went away.
      hooks.settled(outcome ? outcome.error : new ServeError('cancelled', 'client disconnected'));
    }
  }
  return {status: 200, headers: {...SSE_HEADERS, ...headers}, stream: sse()};
}
