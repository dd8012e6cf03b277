/**
 * Turns a chat reply's raw text into OpenAI message parts: reasoning first (`reasoning_content`),
 * then tool calls out of the answer (`tool_calls`), the rest as `content`. Streaming yields deltas;
 * `message()` gives the assembled non-streaming message.
 */
import {ReasoningParser, type ReasoningParserName} from './reasoning.js';
import {type ToolCall, ToolCallParser} from './tool-calls.js';

export type ChatDelta = {reasoning_content: string} | {content: string} | {tool_calls: ToolCall[]};

export class ChatPostprocessor {
  private readonly reasoning?: ReasoningParser;
  private readonly tools?: ToolCallParser;
  private readonly parts = {reasoning: '', content: '', calls: [] as ToolCall[]};

  constructor(reasoningParser: ReasoningParserName | undefined, toolsOffered: boolean) {
    if (reasoningParser) this.reasoning = new ReasoningParser(reasoningParser);
    if (toolsOffered) this.tools = new ToolCallParser();
  }

  get toolCalls(): number {
    return this.parts.calls.length;
  }

  push(text: string): ChatDelta[] {
    const split = this.reasoning ? this.reasoning.push(text) : {reasoning: '', content: text};
    return this.deltas(split.reasoning, split.content);
  }

  flush(): ChatDelta[] {
    const split = this.reasoning ? this.reasoning.flush() : {reasoning: '', content: ''};
    const out = this.deltas(split.reasoning, split.content);
    const held = this.tools?.flush();
    if (held) out.push(...this.record({content: held}));
    return out;
  }

  private deltas(reasoning: string, content: string): ChatDelta[] {
    const out: ChatDelta[] = [];
    if (reasoning) out.push(...this.record({reasoning_content: reasoning}));
    if (!content) return out;
    if (!this.tools) return [...out, ...this.record({content})];
    const r = this.tools.push(content);
    if (r.content) out.push(...this.record({content: r.content}));
    if (r.calls.length) out.push(...this.record({tool_calls: r.calls}));
    return out;
  }

  private record(d: ChatDelta): ChatDelta[] {
    if ('reasoning_content' in d) this.parts.reasoning += d.reasoning_content;
    else if ('content' in d) this.parts.content += d.content;
    else this.parts.calls.push(...d.tool_calls);
    return [d];
  }

  /** The whole assistant message, for non-streaming responses. */
  message(): Record<string, unknown> {
    const calls = this.parts.calls.map(({index: _i, ...c}) => c);
    return {
      role: 'assistant',
      content: this.parts.content || (calls.length ? null : ''),
      ...(this.parts.reasoning ? {reasoning_content: this.parts.reasoning} : {}),
      ...(calls.length ? {tool_calls: calls} : {}),
    };
  }
}
