/**
 * A worker's request on vLLM's OpenAI server, and vLLM's answer back in the worker's terms. The
 * frontend has tokenized and templated already, so the worker sends token ids to
 * `POST /v1/completions` (a prompt that is a list of ints is taken as token ids) and asks for token
 * ids back (`return_token_ids`: the first streamed chunk carries `prompt_token_ids`, every chunk
 * the delta's `token_ids`). Pure.
 *
 * Disaggregation follows vLLM's NixlConnector proxy protocol (../shared/reference/peers.md §4.2):
 * - prefill: the same request, not streamed, `max_tokens: 1`, no `min_tokens`, and
 *   `kv_transfer_params: {do_remote_decode: true, …nulls}`. vLLM answers with top-level
 *   `kv_transfer_params` only when the request stopped for length; an EOS on the first token (or
 *   an abort) returns none, and the decode side then prefills itself.
 * - decode: the original request with the prefill's `kv_transfer_params`, forwarded verbatim (an
 *   opaque blob whose fields change between vLLM versions).
 */

import {type Completion, completionBody, completionChunk} from '../openai-completions.js';
import type {TokenChunk, TokenRequest} from '../token-io.js';

export type KvTransferParamsBlob = Record<string, unknown>;

/** What a prefill request asks of vLLM: keep the blocks for a remote decode. */
const REMOTE_DECODE: KvTransferParamsBlob = {do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null};

export function vllmCompletionBody(req: TokenRequest, model: string, mode: {prefill: true} | {prefill?: false; kvTransferParams?: KvTransferParamsBlob} = {}): Record<string, unknown> {
  const tokenIdsOut = {return_token_ids: true};
  if (mode.prefill) return completionBody(req, model, {prefill: true, tokenIdsOut, handOff: {kv_transfer_params: REMOTE_DECODE}});
  return completionBody(req, model, {prefill: false, tokenIdsOut, handOff: mode.kvTransferParams ? {kv_transfer_params: mode.kvTransferParams} : undefined});
}

export interface VllmCompletion extends Completion {
  kv_transfer_params?: KvTransferParamsBlob | null;
}

/** vLLM's finish reasons in ours: "length" stays, anything else (stop, abort, an error) ends as "stop". */
const finish = (r: string): TokenChunk['finishReason'] => (r === 'length' ? 'length' : 'stop');

/** One streamed chunk (`data: {...}`), or undefined when it carries nothing for the worker. */
export const vllmStreamChunk = (body: VllmCompletion): TokenChunk | undefined => completionChunk(body, finish);

/** A prefill's answer: its one token, and the hand-off for the decode side when vLLM kept the blocks. */
export function vllmPrefillResult(body: VllmCompletion): {chunk: TokenChunk; kvTransferParams?: KvTransferParamsBlob} {
  const chunk = vllmStreamChunk(body) ?? {tokenIds: []};
  const params = body.kv_transfer_params ?? undefined;
  return params && chunk.finishReason === 'length' ? {chunk, kvTransferParams: params} : {chunk};
}
