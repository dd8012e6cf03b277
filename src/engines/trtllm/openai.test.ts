import {describe, expect, it} from 'vitest';
import {trtllmCompletionBody, trtllmContextResult, trtllmStreamChunk} from './openai.js';

const req = {requestId: 'r1', tokenIds: [1, 2, 3], maxTokens: 64, minTokens: 4, seed: 7, temperature: 0.6, topP: 0.95};

/** What a context server answers in choices[0].disaggregated_params (model_dump: every field, nulls too). */
const CTX_PARAMS = {
  request_type: 'context_only', first_gen_tokens: [42], first_gen_log_probs: null, first_gen_logits: null, ctx_request_id: 2049, encoded_opaque_state: 'AAECAw==',
  draft_tokens: null, disagg_request_id: null, ctx_dp_rank: 0, ctx_info_endpoint: null, schedule_style: null, some_future_field: {x: 1},
};

describe('a worker request on trtllm-serve /v1/completions', () => {
  it('aggregated: token ids in, streamed with usage, token ids back (detokenize off), no field CompletionRequest would forbid', () => {
    const body = trtllmCompletionBody(req, 'deepseek-r1');
    expect(body).toEqual({
      model: 'deepseek-r1', prompt: [1, 2, 3], max_tokens: 64, min_tokens: 4, stream: true, stream_options: {include_usage: true}, detokenize: false, seed: 7, temperature: 0.6, top_p: 0.95,
    });
    expect(body).not.toHaveProperty('return_token_ids');
  });

  it('context only: one token, not streamed (so no stream_options), no min_tokens, request_type context_only', () => {
    expect(trtllmCompletionBody({...req, ignoreEos: true}, 'm', {contextOnly: true})).toEqual({
      model: 'm', prompt: [1, 2, 3], max_tokens: 1, stream: false, detokenize: false, ignore_eos: true, seed: 7, temperature: 0.6, top_p: 0.95,
      disaggregated_params: {request_type: 'context_only'},
    });
  });

  it('generation only: the original request with the context\'s params verbatim, request_type switched', () => {
    const body = trtllmCompletionBody(req, 'm', {disaggregatedParams: CTX_PARAMS});
    expect(body).toMatchObject({stream: true, max_tokens: 64, prompt: [1, 2, 3], disaggregated_params: {...CTX_PARAMS, request_type: 'generation_only'}});
    expect(CTX_PARAMS.request_type).toBe('context_only'); // the hand-off itself is not changed
  });
});

describe('trtllm-serve answers in the worker\'s terms', () => {
  it('streamed events: delta token ids, the finish reason, cached tokens from the usage event', () => {
    const chunk = (token_ids: number[] | null, finish_reason: string | null) => ({choices: [{index: 0, text: '', token_ids, logprobs: null, finish_reason, stop_reason: null, avg_decoded_tokens_per_iter: null}], usage: null});
    expect(trtllmStreamChunk(chunk([11, 12], null))).toEqual({tokenIds: [11, 12]});
    expect(trtllmStreamChunk(chunk([13], 'length'))).toEqual({tokenIds: [13], finishReason: 'length'});
    expect(trtllmStreamChunk(chunk([2], 'stop'))).toEqual({tokenIds: [2], finishReason: 'stop'});
    expect(trtllmStreamChunk(chunk([], 'cancelled'))?.finishReason).toBe('stop');
    expect(trtllmStreamChunk({choices: [], usage: {prompt_tokens_details: {cached_tokens: 32}}})).toEqual({tokenIds: [], cachedTokens: 32});
    expect(trtllmStreamChunk(chunk(null, null))).toBeUndefined();
  });

  it('a context phase that stopped for length (or not_finished) hands its params on; one that stopped on EOS hands none', () => {
    const answer = (finish_reason: string, params: Record<string, unknown> | null) => ({choices: [{index: 0, text: '', token_ids: [42], finish_reason, disaggregated_params: params}], usage: {prompt_tokens_details: {cached_tokens: 16}}});
    expect(trtllmContextResult(answer('length', CTX_PARAMS))).toEqual({chunk: {tokenIds: [42], finishReason: 'length', cachedTokens: 16}, disaggregatedParams: CTX_PARAMS});
    expect(trtllmContextResult(answer('not_finished', CTX_PARAMS)).disaggregatedParams).toBe(CTX_PARAMS);
    expect(trtllmContextResult(answer('stop', CTX_PARAMS))).toEqual({chunk: {tokenIds: [42], finishReason: 'stop', cachedTokens: 16}});
    expect(trtllmContextResult(answer('length', null)).disaggregatedParams).toBeUndefined();
  });
});
