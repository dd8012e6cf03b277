/**
 * Hermes-style tool calls (Qwen, Hermes, many fine-tunes): the model writes
 *   <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>
 * and the client gets OpenAI `tool_calls`. While streaming, text that may be a tool call is held
 * back ("jailed") until the closing tag, then released as one tool_calls delta.
 */
import {randomUUID} from 'node:crypto';
import {heldTailLength} from './partial-match.js';

export interface ToolCall {
  index: number;
  id: string;
  type: 'function';
  function: {name: string; arguments: string};
}

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

function toToolCall(body: string, index: number): ToolCall | undefined {
  try {
    const j = JSON.parse(body.trim()) as {name?: unknown; arguments?: unknown; parameters?: unknown};
    if (typeof j.name !== 'string') return undefined;
    const args = j.arguments ?? j.parameters ?? {};
    return {index, id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: {name: j.name, arguments: typeof args === 'string' ? args : JSON.stringify(args)}};
  } catch {
    return undefined;
  }
}

export class ToolCallParser {
  private held = '';
  private jailed = false;
  private count = 0;

  get calls(): number {
    return this.count;
  }

  /** Text to show as content, and tool calls completed in this piece. */
  push(text: string): {content: string; calls: ToolCall[]} {
    let buf = this.held + text;
    this.held = '';
    let content = '';
    const calls: ToolCall[] = [];
    while (buf) {
      if (this.jailed) {
        const end = buf.indexOf(CLOSE);
        if (end < 0) {
          this.held = buf;
          break;
        }
        const call = toToolCall(buf.slice(0, end), this.count);
        if (call) {
          calls.push(call);
          this.count++;
        } else content += `${OPEN}${buf.slice(0, end)}${CLOSE}`; // not a valid call: show it as text
        buf = buf.slice(end + CLOSE.length);
        this.jailed = false;
        continue;
      }
      const start = buf.indexOf(OPEN);
      if (start >= 0) {
        content += buf.slice(0, start);
        buf = buf.slice(start + OPEN.length);
        this.jailed = true;
        continue;
      }
      const keep = heldTailLength(buf, [OPEN]);
      content += buf.slice(0, buf.length - keep);
      this.held = buf.slice(buf.length - keep);
      break;
    }
    return {content, calls};
  }

  flush(): string {
    const t = this.jailed ? `${OPEN}${this.held}` : this.held;
    this.held = '';
    this.jailed = false;
    return t;
  }
}
