import {describe, expect, it} from 'vitest';
import {chatRequestSchema, completionRequestSchema} from './openai-schema.js';
import {isPlainChatBody, isPlainCompletionBody} from './plain-body.js';

const base = {model: 'm', messages: [{role: 'system', content: 's'}, {role: 'user', content: 'hi', name: 'ann'}, {role: 'assistant', content: null, tool_calls: []}]};

describe('the one-pass check of common bodies', () => {
  it('vouches only for bodies the schema accepts unchanged', () => {
    const bodies: unknown[] = [
      base,
      {...base, stream: true, stream_options: {include_usage: true}, max_tokens: 16, ignore_eos: true, temperature: 0.7, top_p: 1, seed: -3, stop: ['a', 'b'], n: 1, user: 'u', min_tokens: 0},
      {...base, messages: [{role: 'user', content: 'x', reasoning_content: 'kept as it is'}]},
      // What it leaves to the schema: tools, content parts, router hints, unknown fields, and every invalid value.
      {...base, tools: [{type: 'function', function: {name: 'f'}}]},
      {...base, messages: [{role: 'user', content: [{type: 'text', text: 'x'}]}]},
      {...base, nvext: {router_config_override: {overlap_score_weight: 2}}},
      {...base, chat_template_kwargs: {enable_thinking: false}},
      {...base, messages: []},
      {...base, model: ''},
      {...base, max_tokens: 0},
      {...base, max_tokens: 1.5},
      {...base, temperature: 3},
      {...base, n: 129},
      {...base, stop: Array.from({length: 33}, () => 'x')},
      {...base, stream: 'yes'},
      {...base, messages: [{role: 'robot', content: 'x'}]},
      {...base, messages: [{role: 'user', content: 5}]},
      {...base, messages: ['hi']},
      {messages: base.messages},
      [base],
      null,
    ];
    let vouched = 0;
    for (const b of bodies) {
      if (!isPlainChatBody(b)) continue;
      vouched++;
      const r = chatRequestSchema.safeParse(b);
      expect(r.success, JSON.stringify(b)).toBe(true);
      expect(r.data).toEqual(b);
    }
    expect(vouched).toBe(3);
  });

  it('vouches only for completion bodies the schema accepts unchanged', () => {
    const ids = Array.from({length: 600}, (_, i) => i * 7);
    const prompt = {model: 'm', prompt: 'Once upon a time'};
    const bodies: unknown[] = [
      prompt,
      {...prompt, prompt: ids, max_tokens: 16, ignore_eos: true, stream: true, stream_options: {include_usage: true}, echo: false, logprobs: 2, suffix: null, seed: 1},
      {...prompt, prompt: ['a', 'b']},
      {...prompt, prompt: [ids, [1, 2]]},
      // Left to the schema: empty and mixed prompts, negative or fractional ids, chat fields, every invalid value.
      {...prompt, prompt: []},
      {...prompt, prompt: [1, 'a']},
      {...prompt, prompt: [...ids, -1]},
      {...prompt, prompt: [1.5]},
      {...prompt, prompt: [[1], 'a']},
      {...prompt, prompt: 5},
      {...prompt, logprobs: true},
      {...prompt, logprobs: 6},
      {...prompt, messages: [{role: 'user', content: 'x'}]},
      {...prompt, max_tokens: 0},
      {model: 'm'},
      {prompt: 'x'},
    ];
    let vouched = 0;
    for (const b of bodies) {
      if (!isPlainCompletionBody(b)) continue;
      vouched++;
      const r = completionRequestSchema.safeParse(b);
      expect(r.success, JSON.stringify(b).slice(0, 200)).toBe(true);
      expect(r.data).toEqual(b);
    }
    expect(vouched).toBe(4);
  });
});
