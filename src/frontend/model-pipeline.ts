/**
 * Everything the frontend knows about its model: the chat template, the encoder, the tokenizer's
 * prefix cache of conversations (a next turn resumes the template's render and encodes only its
 * new suffix), the vocabulary for detokenizing, and the context length. Built once at start.
 */
import type {ModelInfo} from '../config/models.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {ChatTemplate, type ChatMessage, type RenderKind} from '../tokenizer/chat-template.js';
import {ConversationCache, conversationHashes} from '../tokenizer/conversation-cache.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {IncrementalDetokenizer, Vocab} from '../tokenizer/vocab.js';
import type {TokenPrefix} from '../router/policy.js';
import {ServeError} from './errors.js';

/** What tokenizing one prompt cost and reused (for the tokenizer metrics). */
export interface TokenizeReport {
  /** Chat template render (0 for completions). */
  templateMs: number;
  encodeMs: number;
  tokens: number;
  /** Of `tokens`, how many came from the conversation's earlier prompt. */
  reusedTokens: number;
  /** Chat: how the template rendered (compiled, or interpreted resuming an earlier render, or in full). */
  render?: RenderKind;
}

export class ModelPipeline {
  private readonly conversations = new ConversationCache();
  /** Hears every prompt tokenized. */
  onTokenize?: (r: TokenizeReport) => void;

  private constructor(
    readonly info: ModelInfo,
    readonly servedName: string,
    readonly template: ChatTemplate,
    readonly encoder: PromptEncoder,
    readonly vocab: Vocab,
  ) {}

  /** `compileTemplate: false` always interprets the chat template (tests of the interpreter's path). */
  static async load(info: ModelInfo, servedName: string, opts: {compileTemplate?: boolean} = {}): Promise<ModelPipeline> {
    const files = await loadTokenizerFiles(info);
    const vocab = Vocab.fromJson(files.tokenizerJson);
    const template = new ChatTemplate(files.tokenizerConfig, {compile: opts.compileTemplate});
    return new ModelPipeline(info, servedName, template, await PromptEncoder.create(files.tokenizerJson, vocab), vocab);
  }

  get contextLength(): number {
    return this.info.contextLength;
  }

  async chatTokens(messages: ChatMessage[], tools?: unknown[]): Promise<number[]> {
    return (await this.chatPrompt(messages, tools)).ids;
  }

  /** A chat prompt's ids, and which earlier prompt's ids they start with (`continues`: its last turn's, when reused). */
  async chatPrompt(messages: ChatMessage[], tools?: unknown[]): Promise<{ids: number[]; continues?: TokenPrefix}> {
    const t0 = performance.now();
    const hashes = conversationHashes(messages, tools ?? null);
    const prior = this.conversations.longest(hashes);
    let rendered: ReturnType<ChatTemplate['renderResuming']>;
    try {
      rendered = this.template.renderResuming(messages, {tools}, prior?.checkpoints);
    } catch (e) {
      throw new ServeError('invalid_request', `the chat template rejected these messages: ${(e as Error).message}`, 'messages');
    }
    const t1 = performance.now();
    const {ids, reused, prefix} = await this.encoder.encodeContinuing(withoutNul(rendered.text), prior?.prefix);
    this.conversations.set(hashes.at(-1)!, {checkpoints: rendered.checkpoints, prefix});
    this.onTokenize?.({templateMs: t1 - t0, encodeMs: performance.now() - t1, tokens: ids.length, reusedTokens: reused, render: rendered.kind});
    return {ids, continues: reused ? {tokens: prior!.prefix!.ids, length: reused} : undefined};
  }

  async completionTokens(prompt: string | number[]): Promise<number[]> {
    if (typeof prompt !== 'string') {
      const bad = prompt.find((id) => id >= this.vocab.size);
      if (bad !== undefined) throw new ServeError('invalid_request', `token id ${bad} is outside the vocabulary (${this.vocab.size})`, 'prompt');
      return prompt;
    }
    const t0 = performance.now();
    const ids = await this.encoder.encode(withoutNul(prompt), true);
    this.onTokenize?.({templateMs: 0, encodeMs: performance.now() - t0, tokens: ids.length, reusedTokens: 0});
    return ids;
  }

  detokenizer(): IncrementalDetokenizer {
    return new IncrementalDetokenizer(this.vocab);
  }

  /** Rejects prompts that do not fit, as vLLM does; returns the max_tokens to use. */
  budget(promptTokens: number, maxTokens: number | null | undefined, param: string): number {
    if (promptTokens >= this.contextLength) {
      throw new ServeError(
        'context_length_exceeded',
        `This model's maximum context length is ${this.contextLength} tokens. However, your prompt has ${promptTokens} tokens. Please reduce the length of the messages.`,
        'messages',
      );
    }
    const room = this.contextLength - promptTokens;
    if (maxTokens != null && maxTokens > room) {
      throw new ServeError(
        'context_length_exceeded',
        `This model's maximum context length is ${this.contextLength} tokens. However, you requested ${maxTokens + promptTokens} tokens (${promptTokens} in the prompt, ${maxTokens} for the completion). Please reduce the length of the prompt or ${param}.`,
        param,
      );
    }
    return maxTokens ?? room;
  }
}

/** NUL characters are dropped from prompts (they are not text any tokenizer expects). */
const withoutNul = (text: string) => (text.includes('\0') ? text.replace(/\0/g, '') : text);
