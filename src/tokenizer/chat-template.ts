/**
 * Chat templates: the model's own Jinja template from tokenizer_config.json, so prompts match what
 * the real engine would see. Rendered by the template compiled to JS (template-compiler.ts) when
 * it compiles; by @huggingface/jinja's interpreter when it does not, or when a request holds what
 * the compiled form leaves to the interpreter. The interpreter resumes a conversation's next turn
 * where the last render ended (incremental-template.ts).
 */
import {type IncrementalRender, IncrementalTemplate, type LoopCheckpoint} from './incremental-template.js';
import {type CompiledTemplate, compileTemplate} from './template-compiler.js';

export interface ChatMessage {
  role: string;
  content?: string | null | {type: string; text?: string}[];
  [key: string]: unknown;
}

function tokenContent(t: unknown): string | undefined {
  if (typeof t === 'string') return t;
  if (t && typeof t === 'object' && 'content' in t) return String((t as {content: unknown}).content);
  return undefined;
}

/** Content given as parts ([{type:'text', text}]) is joined: most templates expect a string. */
function flattenContent(m: ChatMessage): ChatMessage {
  if (!Array.isArray(m.content)) return m;
  return {...m, content: m.content.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('')};
}

export interface RenderOptions {
  tools?: unknown[];
  addGenerationPrompt?: boolean;
  extra?: Record<string, unknown>;
}

/** How a prompt was rendered: compiled, or interpreted resuming an earlier render, or interpreted in full. */
export type RenderKind = 'compiled' | 'resumed' | 'full';

export class ChatTemplate {
  private readonly template: IncrementalTemplate;
  private readonly compiled?: CompiledTemplate;
  readonly bosToken?: string;
  readonly eosToken?: string;

  /** `compile: false` always interprets (tests of the interpreter's resumed renders). */
  constructor(config: Record<string, unknown>, opts: {compile?: boolean} = {}) {
    const source = config.chat_template;
    const text = Array.isArray(source) ? (source.find((s: {name?: string}) => s.name === 'default')?.template as string | undefined) : source;
    if (typeof text !== 'string') throw new Error('tokenizer_config.json has no chat_template');
    this.template = new IncrementalTemplate(text);
    if (opts.compile !== false) this.compiled = compileTemplate(this.template.program);
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
  }

  render(messages: ChatMessage[], opts: RenderOptions = {}): string {
    return this.renderResuming(messages, opts).text;
  }

  /**
   * Renders: compiled, else interpreted, resuming the message loops from an earlier render of the
   * same first messages where that is sound.
   */
  renderResuming(messages: ChatMessage[], opts: RenderOptions = {}, from?: readonly (LoopCheckpoint | undefined)[]): IncrementalRender & {kind: RenderKind} {
    const context = {
      messages: messages.map(flattenContent),
      tools: opts.tools?.length ? opts.tools : undefined,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      bos_token: this.bosToken ?? '',
      eos_token: this.eosToken ?? '',
      ...opts.extra,
    };
    if (this.compiled) {
      try {
        return {text: this.compiled(context), checkpoints: [], resumed: 0, kind: 'compiled'};
      } catch {
        // TemplateBail (a value the compiled form leaves to the interpreter), or anything else it
        // did not foresee: the interpreter renders this request, or raises the template's error.
      }
    }
    const r = this.template.render(context, from);
    return {...r, kind: r.resumed > 0 ? 'resumed' : 'full'};
  }
}
