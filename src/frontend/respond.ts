/**
 * Writes a generation as the OpenAI response the request asked for: one JSON body, or SSE chunks
 * (a role chunk first for chat, a finish chunk, a usage chunk with include_usage, then [DONE]).
 * Chat replies go through the postprocessor (reasoning, tool calls); a reply that called tools
 * finishes with `tool_calls`, as OpenAI reports it.
 */
import type {ServerResponse} from 'node:http';
import {ChatPostprocessor} from './chat-postprocess.js';
import {toServeError} from './errors.js';
import {chatChunk, chatCompletion, chatUsageChunk, completion, completionChunk} from './format.js';
import type {GenerationEvent} from './generate.js';
import {sendJson} from './reply.js';
import type {ShapedRequest} from './request-shaping.js';
import {openSse} from './sse.js';

type Events = AsyncIterable<GenerationEvent>;

const postprocessorOf = (r: ShapedRequest) => r.chat && new ChatPostprocessor(r.chat.reasoningParser, r.chat.toolsOffered);

const finishOf = (post: ChatPostprocessor | undefined, reason: string) => (post?.toolCalls && reason === 'stop' ? 'tool_calls' : reason);

export async function writeUnary(res: ServerResponse, r: ShapedRequest, events: Events, headers: Record<string, string>): Promise<void> {
  const post = postprocessorOf(r);
  let text = '';
  for await (const ev of events) {
    if (ev.kind === 'text') {
      if (post) post.push(ev.text);
      else text += ev.text;
      continue;
    }
    post?.flush();
    sendJson(res, 200, post ? chatCompletion(r.meta, post.message(), finishOf(post, ev.reason), ev.usage) : completion(r.meta, text, ev.reason, ev.usage), headers);
  }
}

/** Streams the events; a failure after the 200 goes out as an error event (unless the client left) and is rethrown. */
export async function writeStream(res: ServerResponse, r: ShapedRequest, events: Events, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const {meta} = r;
  const post = postprocessorOf(r);
  const sse = openSse(res, headers);
  if (post) sse.send(chatChunk(meta, {role: 'assistant', content: ''}));
  try {
    for await (const ev of events) {
      if (ev.kind === 'text') {
        if (post) for (const d of post.push(ev.text)) sse.send(chatChunk(meta, d));
        else if (ev.text) sse.send(completionChunk(meta, ev.text));
        continue;
      }
      if (post) for (const d of post.flush()) sse.send(chatChunk(meta, d));
      sse.send(post ? chatChunk(meta, {}, finishOf(post, ev.reason)) : completionChunk(meta, '', ev.reason));
      if (r.includeUsage) sse.send(post ? chatUsageChunk(meta, ev.usage) : {...completionChunk(meta, ''), choices: [], usage: chatUsageChunk(meta, ev.usage).usage});
    }
  } catch (e) {
    const se = toServeError(e);
    if (!signal.aborted) sse.error(se);
    throw se;
  } finally {
    sse.done();
  }
}
