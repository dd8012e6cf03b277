/**
 * Everything the frontend knows about its model: the chat template, the encoder (with its prefix
 * cache), the vocabulary for detokenizing, and the context length. Built once at start.
 */
import type {ModelInfo} from '../config/models.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {ChatTemplate, type ChatMessage} from '../tokenizer/chat-template.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {IncrementalDetokenizer, Vocab} from '../tokenizer/vocab.js';
import {ServeError} from './errors.js';

export class ModelPipeline {
  private constructor(
    readonly info: ModelInfo,
    readonly servedName: string,
    readonly template: ChatTemplate,
    readonly encoder: PromptEncoder,
    readonly vocab: Vocab,
  ) {}

  static async load(info: ModelInfo, servedName: string): Promise<ModelPipeline> {
    const files = await loadTokenizerFiles(info);
    const vocab = Vocab.fromJson(files.tokenizerJson);
    return new ModelPipeline(info, servedName, new ChatTemplate(files.tokenizerConfig), await PromptEncoder.create(files.tokenizerJson, vocab), vocab);
  }

  get contextLength(): number {
    return this.info.contextLength;
  }

  async chatTokens(messages: ChatMessage[], tools?: unknown[]): Promise<number[]> {
    let text: string;
    try {
      text = this.template.render(messages, {tools});
    } catch (e) {
      throw new ServeError('invalid_request', `the chat template rejected these messages: ${(e as Error).message}`, 'messages');
    }
    return this.encoder.encode(text.replace(/\0/g, ''));
  }

  async completionTokens(prompt: string | number[]): Promise<number[]> {
    if (typeof prompt !== 'string') {
      const bad = prompt.find((id) => id >= this.vocab.size);
      if (bad !== undefined) throw new ServeError('invalid_request', `token id ${bad} is outside the vocabulary (${this.vocab.size})`, 'prompt');
      return prompt;
    }
    return this.encoder.encode(prompt.replace(/\0/g, ''), true);
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
