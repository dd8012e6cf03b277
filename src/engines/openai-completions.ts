/**
 * What vLLM and TensorRT-LLM share of OpenAI's completions API, in token ids: the sampling fields a
 * worker request sets, and a completion (streamed chunk or whole answer) read back as a token chunk.
 * Each engine's module adds how it asks for token ids and its hand-off (vllm/openai.ts,
 * trtllm/openai.ts). Pure.
 */
import type {TokenChunk, TokenRequest} from './token-io.js';

/** The OpenAI sampling fields of a worker request (only those it sets). */
function samplingFields(req: TokenRequest): Record<string, unknown> {
  return {
    ...(req.ignoreEos ? {ignore_eos: true} : {}),
    ...(req.seed !== undefined ? {seed: req.seed} : {}),
    ...(req.temperature !== undefined ? {temperature: req.temperature} : {}),
    ...(req.topP !== undefined ? {top_p: req.topP} : {}),
  };
}

/**
 * A completions body in token ids: the prefill half of a disaggregated request (one token, whole),
 * or the request streamed with usage. `tokenIdsOut` is how the engine is asked for token ids back
 * (vLLM `return_token_ids`, TensorRT-LLM `detokenize: false`); `handOff` its hand-off fields.
 */
export function completionBody(req: TokenRequest, model: string, o: {prefill: boolean; tokenIdsOut: Record<string, unknown>; handOff?: Record<string, unknown>}): Record<string, unknown> {
  const sampling = samplingFields(req);
  if (o.prefill) return {model, prompt: req.tokenIds, max_tokens: 1, stream: false, ...o.tokenIdsOut, ...sampling, ...o.handOff};
  return {
    model,
    prompt: req.tokenIds,
    max_tokens: req.maxTokens,
    ...(req.minTokens !== undefined ? {min_tokens: req.minTokens} : {}),
    stream: true,
    stream_options: {include_usage: true},
    ...o.tokenIdsOut,
    ...sampling,
    ...o.handOff,
  };
}

export interface CompletionChoice {
  token_ids?: number[] | null;
  finish_reason?: string | null;
}

export interface Completion<C extends CompletionChoice = CompletionChoice> {
  choices?: C[];
  usage?: {prompt_tokens_details?: {cached_tokens?: number | null} | null} | null;
}

/** One completion as a chunk, the engine's finish reason mapped by `finish`; undefined when it carries nothing. */
export function completionChunk(body: Completion, finish: (reason: string) => TokenChunk['finishReason']): TokenChunk | undefined {
  const c = body.choices?.[0];
  const cached = body.usage?.prompt_tokens_details?.cached_tokens ?? undefined;
  const tokenIds = c?.token_ids ?? [];
  const finishReason = c?.finish_reason ? finish(c.finish_reason) : undefined;
  if (!tokenIds.length && !finishReason && cached === undefined) return undefined;
  return {tokenIds, ...(finishReason ? {finishReason} : {}), ...(cached !== undefined ? {cachedTokens: cached} : {})};
}
