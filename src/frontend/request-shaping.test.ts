import {beforeAll, describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {ServeError} from './errors.js';
import {ModelPipeline} from './model-pipeline.js';
import {chatRequestSchema, completionRequestSchema} from './openai-schema.js';
import {routingOf, samplingOf, shapeChatRequest, shapeCompletionRequest, singlePrompt, toolToCall} from './request-shaping.js';

const stamp = {arrivedAt: 1_700_000_000_123, uuid: 'fixed-uuid'};
const chat = (body: Record<string, unknown>) => chatRequestSchema.parse({model: 'qwen3-0.6b', messages: [{role: 'user', content: 'Hi'}], ...body});
const legacy = (body: Record<string, unknown>) => completionRequestSchema.parse({model: 'qwen3-0.6b', prompt: 'Once upon a time', ...body});

/** The ServeError a shaping call fails with, as {kind, param, message}. */
async function failure(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ServeError);
  const se = e as ServeError;
  return {kind: se.kind, param: se.param, message: se.message};
}

describe('samplingOf', () => {
  it('passes sampling fields through, drops nulls and turns one stop string into a list', () => {
    expect(samplingOf({stop: 'END', seed: 7, temperature: 0, top_p: null, ignore_eos: true, min_tokens: 3})).toEqual({
      stop: ['END'],
      seed: 7,
      temperature: 0,
      topP: undefined,
      ignoreEos: true,
      minTokens: 3,
      routing: undefined,
    });
    expect(samplingOf({}).stop).toEqual([]);
    // Structured or guided output is marked (never migrated); plain text is not.
    expect([{response_format: {type: 'json_schema'}}, {guided_regex: 'a+'}, {response_format: {type: 'text'}}, {}].map((r) => samplingOf(r).guided)).toEqual([true, true, undefined, undefined]);
    expect(samplingOf({stop: ['a', 'b']}).stop).toEqual(['a', 'b']);
  });
});

describe('routingOf', () => {
  it('maps nvext.router_config_override to router overrides', () => {
    expect(routingOf({router_config_override: {overlap_score_weight: 2, router_temperature: 0.5, assume_kv_reuse: false, track_prefill_tokens: true}})).toEqual({
      overlapWeight: 2,
      temperature: 0.5,
      assumeKvReuse: false,
      trackPrefillTokens: true,
    });
  });
  it('takes the overlap weight from agent hints when the override has none', () => {
    expect(routingOf({agent_hints: {kv_overlap_score_weight: 0}})).toEqual({overlapWeight: 0});
    expect(routingOf({router_config_override: {overlap_score_weight: 1}, agent_hints: {kv_overlap_score_weight: 3}})).toEqual({overlapWeight: 1});
  });
  it('gives no overrides when nothing is set', () => {
    expect(routingOf(undefined)).toBeUndefined();
    expect(routingOf({router_config_override: {overlap_score_weight: null}})).toBeUndefined();
  });
});

describe('toolToCall and singlePrompt', () => {
  const tools = [{function: {name: 'get_weather'}}, {function: {name: 'get_time'}}];
  it('calls the tool tool_choice names, else the first offered, else none', () => {
    expect(toolToCall(tools, {type: 'function', function: {name: 'get_time'}})).toBe('get_time');
    expect(toolToCall(tools, 'auto')).toBe('get_weather');
    expect(toolToCall(undefined, 'auto')).toBeUndefined();
  });
  it('unwraps a batch of one prompt and refuses larger batches', () => {
    expect(singlePrompt(['only'])).toBe('only');
    expect(singlePrompt([[1, 2, 3]])).toEqual([1, 2, 3]);
    expect(singlePrompt([1, 2, 3])).toEqual([1, 2, 3]);
    expect(() => singlePrompt(['a', 'b'])).toThrow('batched prompts are not supported');
  });
});

describe('shaping with the real qwen3-0.6b pipeline', () => {
  let pipeline: ModelPipeline;
  beforeAll(async () => {
    pipeline = await ModelPipeline.load(resolveModel('qwen3-0.6b'), 'qwen3-0.6b');
  });

  it('a streamed chat request becomes its templated prompt, budget, sampling and response meta', async () => {
    const shaped = await shapeChatRequest(
      chat({stream: true, stream_options: {include_usage: true}, max_tokens: 32, stop: '###', seed: 1, nvext: {router_config_override: {overlap_score_weight: 0}}}),
      pipeline,
      stamp,
    );
    const prompt = await pipeline.chatTokens([{role: 'user', content: 'Hi'}]);
    expect(shaped).toEqual({
      endpoint: 'chat_completions',
      generation: {
        requestId: 'chatcmpl-fixed-uuid',
        arrivedAt: stamp.arrivedAt,
        promptTokens: prompt,
        maxTokens: 32,
        stop: ['###'],
        seed: 1,
        routing: {overlapWeight: 0},
      },
      stream: true,
      includeUsage: true,
      meta: {id: 'chatcmpl-fixed-uuid', created: 1_700_000_000, model: 'qwen3-0.6b'},
      chat: {reasoningParser: 'basic', toolsOffered: false},
    });
  });

  it('a chat request without max_tokens may use the rest of the context', async () => {
    const shaped = await shapeChatRequest(chat({}), pipeline, stamp);
    expect(shaped.generation.maxTokens).toBe(pipeline.contextLength - shaped.generation.promptTokens.length);
    expect(shaped.stream).toBe(false);
    expect(shaped.includeUsage).toBe(false);
  });

  it('offered tools reach the prompt and pick the simulated call, unless tool_choice is none', async () => {
    const tools = [{type: 'function', function: {name: 'get_weather', parameters: {type: 'object'}}}];
    const withTools = await shapeChatRequest(chat({tools}), pipeline, stamp);
    const plain = await shapeChatRequest(chat({}), pipeline, stamp);
    expect(withTools.generation.mockToolCall).toBe('get_weather');
    expect(withTools.chat).toEqual({reasoningParser: 'basic', toolsOffered: true});
    expect(withTools.generation.promptTokens.length).toBeGreaterThan(plain.generation.promptTokens.length);
    const none = await shapeChatRequest(chat({tools, tool_choice: 'none'}), pipeline, stamp);
    expect(none.generation.promptTokens).toEqual(plain.generation.promptTokens);
    expect(none.generation.mockToolCall).toBeUndefined();
    expect(none.chat?.toolsOffered).toBe(false);
  });

  it('a completions request defaults to 16 tokens and takes token-id prompts as they are', async () => {
    const shaped = await shapeCompletionRequest(legacy({prompt: [[9707, 1879]]}), pipeline, stamp);
    expect(shaped).toEqual({
      endpoint: 'completions',
      generation: {requestId: 'cmpl-fixed-uuid', arrivedAt: stamp.arrivedAt, promptTokens: [9707, 1879], maxTokens: 16, stop: []},
      stream: false,
      includeUsage: false,
      meta: {id: 'cmpl-fixed-uuid', created: 1_700_000_000, model: 'qwen3-0.6b'},
    });
  });

  it('refuses, with the field to fix, what cannot be served', async () => {
    expect(await failure(shapeChatRequest(chat({model: 'gpt-4o'}), pipeline, stamp))).toEqual({
      kind: 'model_not_found',
      param: 'model',
      message: 'The model `gpt-4o` does not exist. Served: qwen3-0.6b.',
    });
    expect(await failure(shapeChatRequest(chat({n: 2}), pipeline, stamp))).toMatchObject({kind: 'invalid_request', param: 'n'});
    expect(await failure(shapeCompletionRequest(legacy({prompt: ''}), pipeline, stamp))).toEqual({kind: 'invalid_request', param: 'prompt', message: 'prompt must not be empty'});
    expect(await failure(shapeCompletionRequest(legacy({prompt: [999_999_999]}), pipeline, stamp))).toMatchObject({kind: 'invalid_request', param: 'prompt'});
    expect(await failure(shapeChatRequest(chat({max_completion_tokens: 1_000_000}), pipeline, stamp))).toMatchObject({
      kind: 'context_length_exceeded',
      param: 'max_completion_tokens',
    });
  });
});
