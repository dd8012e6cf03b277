/**
 * A worker's request on TensorRT-LLM's OpenAI server (`trtllm-serve`), and its answer back in the
 * worker's terms. The frontend has tokenized already, so the worker sends token ids to
 * `POST /v1/completions` (`prompt: List[int]` is taken as token ids) with `detokenize: false`:
 * the server then answers `text: ""` and the choice's `token_ids` (the delta in each streamed
 * chunk, all of them in a whole answer). Pure.
 *
 * What TensorRT-LLM's source says (tensorrt_llm/serve/openai_protocol.py `CompletionRequest`,
 * `DisaggregatedParams`, `to_disaggregated_params`; serve/postprocess_handlers.py
 * `completion_stream_post_processor`/`completion_response_post_processor`;
 * serve/openai_server.py `openai_completion`; serve/openai_disagg_service.py `_get_ctx_request`,
 * `_get_gen_request`, `_need_gen`), see ../shared/reference/peers.md §6.3:
 * - Request models forbid unknown fields (`extra="forbid"`): vLLM's `return_token_ids` would be a
 *   400, so none of its extras are sent. `stream_options` only with `stream: true`; with
 *   `include_usage` the last event (choices `[]`) carries `usage.prompt_tokens_details.cached_tokens`.
 * - Disaggregation: the context request is the same one, not streamed, `max_tokens: 1`,
 *   `disaggregated_params: {request_type: "context_only"}`. The server answers
 *   `choices[0].disaggregated_params` (`first_gen_tokens`, `ctx_request_id`,
 *   `encoded_opaque_state`, `draft_tokens`, … as that version has them). Generation is needed only
 *   when that finish reason is "length" or "not_finished"; otherwise (an EOS on the first token)
 *   there is no hand-off and the decode side prefills itself, as it also does when no params came
 *   back. The generation request is the original one with those params verbatim and
 *   `request_type: "generation_only"`; its output starts with the context's first token.
 */

import {type Completion, type CompletionChoice, completionBody, completionChunk} from '../openai-completions.js';
import type {TokenChunk, TokenRequest} from '../token-io.js';

/** A context server's `disaggregated_params`, carried verbatim (its fields change between versions). */
export type DisaggregatedParamsBlob = Record<string, unknown>;

export function trtllmCompletionBody(req: TokenRequest, model: string, mode: {contextOnly: true} | {contextOnly?: false; disaggregatedParams?: DisaggregatedParamsBlob} = {}): Record<string, unknown> {
  const tokenIdsOut = {detokenize: false};
  if (mode.contextOnly) return completionBody(req, model, {prefill: true, tokenIdsOut, handOff: {disaggregated_params: {request_type: 'context_only'}}});
  const params = mode.disaggregatedParams;
  return completionBody(req, model, {prefill: false, tokenIdsOut, handOff: params ? {disaggregated_params: {...params, request_type: 'generation_only'}} : undefined});
}

interface TrtllmChoice extends CompletionChoice {
  /** A context phase's hand-off (choices[0] only). */
  disaggregated_params?: DisaggregatedParamsBlob | null;
}
export type TrtllmCompletion = Completion<TrtllmChoice>;

/**
 * TensorRT-LLM's finish reasons in ours: "length" stays, and so does a context phase that ended
 * "not_finished" (its generation goes on elsewhere); anything else (stop, cancelled, timeout) is "stop".
 */
const finish = (r: string): TokenChunk['finishReason'] => (r === 'length' || r === 'not_finished' ? 'length' : 'stop');

/** One streamed event (`data: {...}`), or undefined when it carries nothing for the worker. */
export const trtllmStreamChunk = (body: TrtllmCompletion): TokenChunk | undefined => completionChunk(body, finish);

/** A context-only answer: its first token, and the hand-off when generation is still to run. */
export function trtllmContextResult(body: TrtllmCompletion): {chunk: TokenChunk; disaggregatedParams?: DisaggregatedParamsBlob} {
  const chunk = trtllmStreamChunk(body) ?? {tokenIds: []};
  const reason = body.choices?.[0]?.finish_reason;
  const params = body.choices?.[0]?.disaggregated_params ?? undefined;
  return params && (reason === 'length' || reason === 'not_finished') ? {chunk, disaggregatedParams: params} : {chunk};
}
