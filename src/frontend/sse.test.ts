import {describe, expect, it} from 'vitest';
import {ChatFrames, CompletionFrames, usageBody} from './format.js';
import {SSE_DONE, sseEvent} from './sse.js';

const meta = {id: 'chatcmpl-1', created: 1700000000, model: 'qwen3-0.6b'};
const usage = {promptTokens: 10, completionTokens: 3, cachedTokens: 4};
/** A frame as JSON.stringify of the whole chunk object would write it: the prebuilt head must not change a byte. */
const frame = (object: string, choices: unknown[], extra: Record<string, unknown> = {}) => sseEvent({id: meta.id, object, created: meta.created, model: meta.model, choices, ...extra});

describe('SSE framing', () => {
  it('frames each event as one data line and ends with [DONE]', () => {
    expect(sseEvent({a: 1, s: 'x\ny'})).toBe('data: {"a":1,"s":"x\\ny"}\n\n');
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
  });

  it('chat chunks are byte-identical to stringifying the whole chunk', () => {
    const f = new ChatFrames(meta);
    const d = {content: 'he said "hi"\n\u2028'};
    expect(f.delta(d)).toBe(frame('chat.completion.chunk', [{index: 0, delta: d, logprobs: null, finish_reason: null}]));
    expect(f.finish('stop')).toBe(frame('chat.completion.chunk', [{index: 0, delta: {}, logprobs: null, finish_reason: 'stop'}]));
    expect(f.usage(usage)).toBe(frame('chat.completion.chunk', [], {usage: usageBody(usage)}));
  });

  it('completion chunks are byte-identical to stringifying the whole chunk', () => {
    const f = new CompletionFrames({...meta, model: 'a "quoted" model'});
    const m = {...meta, model: 'a "quoted" model'};
    const whole = (choices: unknown[], extra = {}) => sseEvent({id: m.id, object: 'text_completion', created: m.created, model: m.model, choices, ...extra});
    expect(f.text('x')).toBe(whole([{index: 0, text: 'x', logprobs: null, finish_reason: null}]));
    expect(f.finish('length')).toBe(whole([{index: 0, text: '', logprobs: null, finish_reason: 'length'}]));
    expect(f.usage(usage)).toBe(whole([], {usage: usageBody(usage)}));
  });
});
