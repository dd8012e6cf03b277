import {describe, expect, it} from 'vitest';
import {ReasoningParser} from './reasoning.js';
import {ToolCallParser} from './tool-calls.js';

function feed(p: ReasoningParser, pieces: string[]) {
  const out = {reasoning: '', content: ''};
  for (const x of [...pieces.map((t) => p.push(t)), p.flush()]) {
    out.reasoning += x.reasoning;
    out.content += x.content;
  }
  return out;
}

describe('ReasoningParser', () => {
  it('basic: splits at <think>…</think> even when the tags are split across chunks', () => {
    expect(feed(new ReasoningParser('basic'), ['<th', 'ink>\nLet me see', '.</thi', 'nk>\n\nThe answer.'])).toEqual({reasoning: 'Let me see.', content: 'The answer.'});
  });
  it('basic: text without tags is all content', () => {
    expect(feed(new ReasoningParser('basic'), ['just ', 'an answer'])).toEqual({reasoning: '', content: 'just an answer'});
  });
  it('deepseek_r1: reasoning until </think>, with no opening tag needed', () => {
    expect(feed(new ReasoningParser('deepseek_r1'), ['thinking hard', '</think>', 'Answer'])).toEqual({reasoning: 'thinking hard', content: 'Answer'});
    expect(feed(new ReasoningParser('deepseek_r1'), ['<think>\nhmm</think>\n\nok'])).toEqual({reasoning: 'hmm', content: 'ok'});
  });
});

describe('ToolCallParser', () => {
  it('turns hermes tool calls into OpenAI tool_calls, streamed in pieces', () => {
    const p = new ToolCallParser();
    const pieces = ['Let me check. <tool', '_call>\n{"name": "get_weather", "argu', 'ments": {"city": "Paris"}}\n</tool_call>'];
    let content = '';
    const calls = [];
    for (const x of pieces) {
      const r = p.push(x);
      content += r.content;
      calls.push(...r.calls);
    }
    content += p.flush();
    expect(content).toBe('Let me check. ');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({index: 0, type: 'function', function: {name: 'get_weather', arguments: '{"city":"Paris"}'}});
    expect(calls[0]!.id).toMatch(/^call_/);
  });
  it('leaves malformed calls as text', () => {
    const p = new ToolCallParser();
    expect(p.push('<tool_call>not json</tool_call>')).toEqual({content: '<tool_call>not json</tool_call>', calls: []});
  });
});
