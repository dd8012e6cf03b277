/**
 * OpenAI response objects (chat.completion, chat.completion.chunk, text_completion) from
 * generation events, and the SSE frames of streamed ones. Shapes follow the OpenAI spec, as the
 * official SDKs parse them.
 */
import type {Usage} from './generate.js';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

export function usageBody(u: Usage) {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: {cached_tokens: u.cachedTokens},
  };
}

/** The fields every response object starts with. */
const head = (m: ResponseMeta, object: string) => ({id: m.id, object, created: m.created, model: m.model});

export function chatCompletion(m: ResponseMeta, message: Record<string, unknown>, finishReason: string, u: Usage) {
  return {...head(m, 'chat.completion'), choices: [{index: 0, message, logprobs: null, finish_reason: finishReason}], usage: usageBody(u)};
}

export function completion(m: ResponseMeta, text: string, finishReason: string, u: Usage) {
  return {...head(m, 'text_completion'), choices: [{index: 0, text, logprobs: null, finish_reason: finishReason}], usage: usageBody(u)};
}

/**
 * SSE frames of one streamed response. The fields every chunk repeats (id, object, created,
 * model) are serialized once per request; each frame then stringifies only its delta.
 */
abstract class Frames {
  protected readonly head: string;

  constructor(
    protected readonly meta: ResponseMeta,
    object: string,
  ) {
    this.head = `data: {"id":${JSON.stringify(meta.id)},"object":"${object}","created":${meta.created},"model":${JSON.stringify(meta.model)},"choices":[`;
  }

  abstract finish(reason: string): string;
  abstract usage(u: Usage): string;
}

export class ChatFrames extends Frames {
  constructor(meta: ResponseMeta) {
    super(meta, 'chat.completion.chunk');
  }

  delta(d: Record<string, unknown>): string {
    return `${this.head}{"index":0,"delta":${JSON.stringify(d)},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  finish(reason: string): string {
    return `${this.head}{"index":0,"delta":{},"logprobs":null,"finish_reason":${JSON.stringify(reason)}}]}\n\n`;
  }

  usage(u: Usage): string {
    return `${this.head}],"usage":${JSON.stringify(usageBody(u))}}\n\n`;
  }
}

export class CompletionFrames extends Frames {
  constructor(meta: ResponseMeta) {
    super(meta, 'text_completion');
  }

  text(text: string): string {
    return `${this.head}{"index":0,"text":${JSON.stringify(text)},"logprobs":null,"finish_reason":null}]}\n\n`;
  }

  finish(reason: string): string {
    return `${this.head}{"index":0,"text":"","logprobs":null,"finish_reason":${JSON.stringify(reason)}}]}\n\n`;
  }

  usage(u: Usage): string {
    return `${this.head}],"usage":${JSON.stringify(usageBody(u))}}\n\n`;
  }
}
