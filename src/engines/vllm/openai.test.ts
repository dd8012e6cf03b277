import {describe, expect, it} from 'vitest';
import {vllmCompletionBody, vllmPrefillResult, vllmStreamChunk} from './openai.js';

const req = {requestId: 'r1', tokenIds: [1, 2, 3], maxTokens: 64, minTokens: 4, seed: 7, temperature: 0.6, topP: 0.95};

describe('a worker request on vLLM /v1/completions', () => {
  it('aggregated: token ids in, streamed with usage, token ids back, sampling as vLLM names it', () => {
    expect(vllmCompletionBody(req, 'deepseek-r1')).toEqual({
      model: 'deepseek-r1', prompt: [1, 2, 3], max_tokens: 64, min_tokens: 4, stream: true, stream_options: {include_usage: true}, return_token_ids: true, seed: 7, temperature: 0.6, top_p: 0.95,
    });
  });

  it('prefill: one token, not streamed, no min_tokens, asking vLLM to keep the blocks for a remote decode', () => {
    expect(vllmCompletionBody({...req, ignoreEos: true}, 'm', {prefill: true})).toEqual({
      model: 'm', prompt: [1, 2, 3], max_tokens: 1, stream: false, return_token_ids: true, ignore_eos: true, seed: 7, temperature: 0.6, top_p: 0.95,
      kv_transfer_params: {do_remote_decode: true, do_remote_prefill: false, remote_engine_id: null, remote_block_ids: null, remote_host: null, remote_port: null},
    });
  });

  it('decode: the original request with the prefill\'s params, verbatim', () => {
    const params = {do_remote_prefill: true, do_remote_decode: false, remote_block_ids: [4, 5], remote_engine_id: 'e1', remote_request_id: 'p-r1', remote_host: '10.0.0.5', remote_port: 5600, tp_size: 2, some_future_field: {x: 1}};
    expect(vllmCompletionBody(req, 'm', {kvTransferParams: params})).toMatchObject({stream: true, max_tokens: 64, kv_transfer_params: params});
  });
});

describe('vLLM answers in the worker\'s terms', () => {
  it('streamed chunks: delta token ids, the finish reason, cached tokens from the usage chunk', () => {
    expect(vllmStreamChunk({choices: [{token_ids: [11, 12], finish_reason: null}]})).toEqual({tokenIds: [11, 12]});
    expect(vllmStreamChunk({choices: [{token_ids: [13], finish_reason: 'length'}]})).toEqual({tokenIds: [13], finishReason: 'length'});
    expect(vllmStreamChunk({choices: [{token_ids: [], finish_reason: 'stop'}]})).toEqual({tokenIds: [], finishReason: 'stop'});
    expect(vllmStreamChunk({choices: [{token_ids: [], finish_reason: 'abort'}]})?.finishReason).toBe('stop');
    expect(vllmStreamChunk({choices: [], usage: {prompt_tokens_details: {cached_tokens: 32}}})).toEqual({tokenIds: [], cachedTokens: 32});
    expect(vllmStreamChunk({choices: [{token_ids: null, finish_reason: null}], usage: null})).toBeUndefined();
  });

  it('a prefill that stopped for length hands its params on; one that stopped on EOS hands none (decode prefills itself)', () => {
    const params = {do_remote_prefill: true, remote_block_ids: [1], remote_engine_id: 'e', remote_host: 'h', remote_port: 5600};
    expect(vllmPrefillResult({choices: [{token_ids: [42], finish_reason: 'length'}], kv_transfer_params: params})).toEqual({chunk: {tokenIds: [42], finishReason: 'length'}, kvTransferParams: params});
    expect(vllmPrefillResult({choices: [{token_ids: [2], finish_reason: 'stop'}], kv_transfer_params: null})).toEqual({chunk: {tokenIds: [2], finishReason: 'stop'}});
    expect(vllmPrefillResult({choices: [{token_ids: [2], finish_reason: 'stop'}], kv_transfer_params: params}).kvTransferParams).toBeUndefined();
  });
});
