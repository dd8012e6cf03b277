/**
 * Chat templates: the model's own Jinja template from tokenizer_config.json, rendered with
 * @huggingface/jinja, so prompts match what the real engine would see. A conversation's next turn
 * can resume the render where the last one ended (incremental-template.ts).
 */
import {type IncrementalRender, IncrementalTemplate, type LoopCheckpoint} from './incremental-template.js';

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

export class ChatTemplate {
  private readonly template: IncrementalTemplate;
  readonly bosToken?: string;
  readonly eosToken?: string;

  constructor(config: Record<string, unknown>) {
    const source = config.chat_template;
    const text = Array.isArray(source) ? (source.find((s: {name?: string}) => s.name === 'default')?.template as string | undefined) : source;
    if (typeof text !== 'string') throw new Error('tokenizer_config.json has no chat_template');
    this.template = new IncrementalTemplate(text);
    this.bosToken = tokenContent(config.bos_token);
    this.eosToken = tokenContent(config.eos_token);
  }

  render(messages: ChatMessage[], opts: RenderOptions = {}): string {
    return this.renderResuming(messages, opts).text;
  }

  /** Renders, resuming the message loops from an earlier render of the same first messages where that is sound. */
  renderResuming(messages: ChatMessage[], opts: RenderOptions = {}, from?: readonly (LoopCheckpoint | undefined)[]): IncrementalRender {
    return this.template.render(
      {
        messages: messages.map(flattenContent),
        tools: opts.tools?.length ? opts.tools : undefined,
        add_generation_prompt: opts.addGenerationPrompt ?? true,
        bos_token: this.bosToken ?? '',
        eos_token: this.eosToken ?? '',
        ...opts.extra,
      },
      from,
    );
  }
}
