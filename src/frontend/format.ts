/**
 * OpenAI response objects (chat.completion, chat.completion.chunk, text_completion) from
 * generation events. Shapes follow the OpenAI spec, as the official SDKs parse them.
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

export function chatChunk(m: ResponseMeta, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {...head(m, 'chat.completion.chunk'), choices: [{index: 0, delta, logprobs: null, finish_reason: finishReason}]};
}

export function chatUsageChunk(m: ResponseMeta, u: Usage) {
  return {...head(m, 'chat.completion.chunk'), choices: [], usage: usageBody(u)};
}

export function chatCompletion(m: ResponseMeta, message: Record<string, unknown>, finishReason: string, u: Usage) {
  return {...head(m, 'chat.completion'), choices: [{index: 0, message, logprobs: null, finish_reason: finishReason}], usage: usageBody(u)};
}

export function completionChunk(m: ResponseMeta, text: string, finishReason: string | null = null) {
  return {...head(m, 'text_completion'), choices: [{index: 0, text, logprobs: null, finish_reason: finishReason}]};
}

export function completion(m: ResponseMeta, text: string, finishReason: string, u: Usage) {
  return {...completionChunk(m, text, finishReason), usage: usageBody(u)};
}
