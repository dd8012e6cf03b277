/**
 * Splits streamed model text into reasoning and answer at `<think>` … `</think>`.
 * - `basic`: reasoning starts at the opening tag (Qwen3 and most models);
 * - `deepseek_r1`: the model is already thinking when it starts (its template opens the block), so
 *   everything before `</think>` is reasoning, with or without an opening tag.
 * A tag split across chunks is held back until it is complete ("<thi" is not emitted as text).
 */
import {heldTailLength} from './partial-match.js';

export type ReasoningParserName = 'basic' | 'deepseek_r1';

export interface Split {
  reasoning: string;
  content: string;
}

const START = '<think>';
const END = '</think>';

export class ReasoningParser {
  private inReasoning: boolean;
  private held = '';
  /** Leading whitespace of each part (reasoning, answer) is layout, not text. */
  private started = {reasoning: false, content: false};
  /** deepseek_r1: an explicit opening tag at the very start is dropped (or held while partial). */
  private leadingTagChecked: boolean;

  constructor(readonly name: ReasoningParserName) {
    this.inReasoning = name === 'deepseek_r1';
    this.leadingTagChecked = name !== 'deepseek_r1';
  }

  push(text: string): Split {
    const out: Split = {reasoning: '', content: ''};
    let buf = this.held + text;
    this.held = '';
    if (!this.leadingTagChecked) {
      const trimmed = buf.replace(/^\s+/, '');
      if (trimmed.length < START.length && START.startsWith(trimmed)) {
        this.held = buf;
        return out;
      }
      this.leadingTagChecked = true;
      if (trimmed.startsWith(START)) buf = trimmed.slice(START.length).replace(/^\n+/, '');
    }
    while (buf) {
      const tag = this.inReasoning ? END : START;
      const at = buf.indexOf(tag);
      if (at >= 0) {
        this.emit(out, buf.slice(0, at));
        buf = buf.slice(at + tag.length);
        this.inReasoning = !this.inReasoning;
        // Models put a newline or two right after the tags; they are layout, not text.
        buf = buf.replace(/^\n+/, '');
        continue;
      }
      const keep = heldTailLength(buf, [tag]);
      this.emit(out, buf.slice(0, buf.length - keep));
      this.held = buf.slice(buf.length - keep);
      break;
    }
    return out;
  }

  flush(): Split {
    const out: Split = {reasoning: '', content: ''};
    this.emit(out, this.held);
    this.held = '';
    return out;
  }

  private emit(out: Split, text: string): void {
    const part = this.inReasoning ? 'reasoning' : 'content';
    if (!this.started[part]) text = text.replace(/^\s+/, '');
    if (!text) return;
    this.started[part] = true;
    out[part] += text;
  }
}
