import {describe, expect, it} from 'vitest';
import {type SglangAnswer, type SglangFinishReason, SglangOutput, newBootstrapRoom, parseSglangHandoff, sglangBodyJson, sglangFailure, sglangGenerateBody, sglangHandoff} from './http.js';

const req = {tokenIds: [1, 2, 3], maxTokens: 64, minTokens: 4, seed: 7, temperature: 0.6, topP: 0.95};
const meta = (completion: number, finish: SglangFinishReason | null = null, cached = 0) => ({id: 'r1', finish_reason: finish, prompt_tokens: 3, completion_tokens: completion, cached_tokens: cached});
const readAll = (events: SglangAnswer[]) => {
  const out = new SglangOutput();
  return events.map((e) => out.next(e)).filter((c) => c !== undefined);
};

describe('a worker request on SGLang /generate', () => {
  it('token ids in, sampling under SGLang\'s names, streamed, the request id as rid', () => {
    expect(sglangGenerateBody(req, 'r1', {stream: true})).toEqual({
      rid: 'r1', input_ids: [1, 2, 3], stream: true,
      sampling_params: {max_new_tokens: 64, min_new_tokens: 4, temperature: 0.6, top_p: 0.95, sampling_seed: 7},
    });
    expect(sglangGenerateBody({tokenIds: [5], maxTokens: 1, ignoreEos: true}, 'r2', {stream: false}).sampling_params).toEqual({max_new_tokens: 1, ignore_eos: true});
  });

  it('both PD halves carry the bootstrap host, port and room; the 63-bit room is an exact JSON integer', () => {
    const room = (1n << 63n) - 5n; // far past 2^53: a JS number would round it
    const body = sglangGenerateBody(req, 'r1', {stream: true, bootstrap: {host: '10.0.0.5', port: 8998, room}});
    const json = sglangBodyJson(body);
    expect(json).toContain(',"bootstrap_host":"10.0.0.5","bootstrap_port":8998,"bootstrap_room":9223372036854775803}');
    expect(JSON.parse(json.replace(/"bootstrap_room":(\d+)/, '"bootstrap_room":"$1"'))).toMatchObject({input_ids: [1, 2, 3], bootstrap_room: '9223372036854775803'});
    expect(sglangBodyJson(sglangGenerateBody(req, 'r1', {stream: true}))).not.toContain('bootstrap');
  });

  it('the hand-off carries the room as a decimal string and reads back exactly; anything else is refused', () => {
    const b = {host: 'p0', port: 8998, room: 9223372036854775807n};
    const h = sglangHandoff(b);
    expect(h).toEqual({bootstrap_host: 'p0', bootstrap_port: 8998, bootstrap_room: '9223372036854775807'});
    expect(parseSglangHandoff(JSON.parse(JSON.stringify(h)))).toEqual(b);
    expect(parseSglangHandoff({...h, bootstrap_room: 12})).toEqual({...b, room: 12n});
    expect(() => parseSglangHandoff({...h, bootstrap_room: '9223372036854775808'})).toThrow(/not in \[0, 2\^63\)/);
    expect(() => parseSglangHandoff({...h, bootstrap_room: 1.5})).toThrow(/bootstrap_room/);
    expect(() => parseSglangHandoff({...h, bootstrap_port: null})).toThrow(/bootstrap_port/);
    expect(() => parseSglangHandoff({do_remote_prefill: true})).toThrow(/bootstrap_host/);
  });

  it('rooms are fresh and within int64', () => {
    const rooms = Array.from({length: 64}, newBootstrapRoom);
    expect(new Set(rooms).size).toBe(64);
    for (const r of rooms) expect(r >= 0n && r < 1n << 63n).toBe(true);
    expect(rooms.some((r) => r > BigInt(Number.MAX_SAFE_INTEGER))).toBe(true);
  });
});

describe('SGLang answers in the worker\'s terms', () => {
  it('cumulative output_ids (the default): each event\'s new tokens, cached tokens first and last, the finish reason', () => {
    const chunks = readAll([
      {text: 'a', output_ids: [11], meta_info: meta(1, null, 32)},
      {text: 'ab', output_ids: [11, 12, 13], meta_info: meta(3, null, 32)},
      {text: 'ab', output_ids: [11, 12, 13], meta_info: meta(3, null, 32)},
      {text: 'abc', output_ids: [11, 12, 13, 14], meta_info: meta(4, {type: 'length', length: 4}, 32)},
    ]);
    expect(chunks).toEqual([{tokenIds: [11], cachedTokens: 32}, {tokenIds: [12, 13]}, {tokenIds: [14], finishReason: 'length', cachedTokens: 32}]);
  });

  it('cumulative output_ids racing ahead of completion_tokens (a shared list) are still read once each', () => {
    const chunks = readAll([
      {output_ids: [11, 12], meta_info: meta(1)},
      {output_ids: [11, 12, 13], meta_info: meta(3)},
      {output_ids: [11, 12, 13, 14], meta_info: meta(4, {type: 'stop', matched: 2})},
    ]);
    expect(chunks.flatMap((c) => c.tokenIds)).toEqual([11, 12, 13, 14]);
    expect(chunks.at(-1)?.finishReason).toBe('stop');
  });

  it('incremental output_ids (--incremental-streaming-output / --stream-output): deltas, told apart by completion_tokens', () => {
    const chunks = readAll([
      {output_ids: [11, 12], meta_info: meta(2, null, 16)},
      {output_ids: [13], meta_info: meta(3, null, 16)},
      {output_ids: [14, 15], meta_info: meta(5, {type: 'length', length: 5}, 16)},
    ]);
    expect(chunks).toEqual([{tokenIds: [11, 12], cachedTokens: 16}, {tokenIds: [13]}, {tokenIds: [14, 15], finishReason: 'length', cachedTokens: 16}]);
  });

  it('an unstreamed answer is all its tokens at once', () => {
    expect(new SglangOutput().next({text: 'x', output_ids: [7], meta_info: meta(1, {type: 'length', length: 1}, 0)})).toEqual({tokenIds: [7], finishReason: 'length', cachedTokens: 0});
  });

  it('an abort is the request failing with the status it names; an error event is the 400 it would be unstreamed', () => {
    const abort = {type: 'abort', message: 'Decode transfer failed for request rank=0 … timed out after 300.0s in KVPoll.WaitingForInput', status_code: 500};
    expect(() => new SglangOutput().next({output_ids: [], meta_info: meta(0, abort)})).toThrow('SGLang answered 500: Decode transfer failed for request rank=0');
    expect(() => new SglangOutput().next({meta_info: meta(0, {type: 'abort', message: 'Abort in waiting queue', status_code: null})})).toThrow('SGLang aborted the request: Abort in waiting queue');
    expect(() => new SglangOutput().next({error: {message: "The input (40 tokens) is longer than the model's context length (32 tokens)."}})).toThrow("SGLang answered 400: The input (40 tokens) is longer than the model's context length (32 tokens).");
  });

  it('HTTP errors in SGLang\'s words, whichever body it wrote', () => {
    expect(sglangFailure(400, '{"error":{"message":"bad input"}}').message).toBe('SGLang answered 400: bad input');
    expect(sglangFailure(500, '{"object":"error","message":"Prefill bootstrap failed","type":"500","param":null,"code":500}').message).toBe('SGLang answered 500: Prefill bootstrap failed');
    expect(sglangFailure(404, '{"detail":"Not Found"}').message).toBe('SGLang answered 404: Not Found');
    expect(sglangFailure(500, 'Internal Server Error').message).toBe('SGLang answered 500: Internal Server Error');
    expect(sglangFailure(503, '', 'Service Unavailable').message).toBe('SGLang answered 503: Service Unavailable');
  });
});
