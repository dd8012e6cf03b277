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

export function chatChunk(m: ResponseMeta, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {id: m.id, object: 'chat.completion.chunk', created: m.created, model: m.model, choices: [{index: 0, delta, logprobs: null, finish_reason: finishReason}]};
}

export function chatUsageChunk(m: ResponseMeta, u: Usage) {
  return {id: m.id, object: 'chat.completion.chunk', created: m.created, model: m.model, choices: [], usage: usageBody(u)};
}

export function chatCompletion(m: ResponseMeta, message: Record<string, unknown>, finishReason: string, u: Usage) {
  return {
    id: m.id,
    object: 'chat.completion',
    created: m.created,
    model: m.model,
    choices: [{index: 0, message, logprobs: null, finish_reason: finishReason}],
    usage: usageBody(u),
  };
}

export function completionChunk(m: ResponseMeta, text: string, finishReason: string | null = null) {
  return {id: m.id, object: 'text_completion', created: m.created, model: m.model, choices: [{index: 0, text, logprobs: null, finish_reason: finishReason}]};
}

export function completion(m: ResponseMeta, text: string, finishReason: string, u: Usage) {
  return {
    id: m.id,
    object: 'text_completion',
    created: m.created,
    model: m.model,
    choices: [{index: 0, text, logprobs: null, finish_reason: finishReason}],
    usage: usageBody(u),
  };
}
