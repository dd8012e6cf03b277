/**
 * What the simulated model writes: readable words from the model's own vocabulary, wrapped in
 * `<think>` tags for reasoning models and in a `<tool_call>` block when the request asks for one.
 * Token ids of those tags come from the real tokenizer, so the frontend's parsers see what a real
 * engine would send.
 */
import type {ModelInfo} from '../config/models.js';
import {ReadableText, seedFor} from '../engines/mocker/text.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {ChatTemplate} from '../tokenizer/chat-template.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {Vocab} from '../tokenizer/vocab.js';
import type {GenerateRequest} from './protocol.js';

export interface OutputText {
  eosTokenId: number | undefined;
  /** The token source of one request (deterministic for its seed and prompt). */
  tokenSource(req: GenerateRequest, maxTokens: number): Promise<() => number>;
}

export async function loadOutputText(model: ModelInfo): Promise<OutputText> {
  const files = await loadTokenizerFiles(model);
  const vocab = Vocab.fromJson(files.tokenizerJson);
  const text = ReadableText.fromVocab(vocab, new ChatTemplate(files.tokenizerConfig).eosToken);
  const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
  // `<think>` and `</think>` are single added tokens in the DeepSeek-R1 and Qwen3 vocabularies.
  const think = model.reasoningParser ? {open: await encoder.encode('<think>\n'), close: await encoder.encode('\n</think>\n\n')} : undefined;
  const tags = {open: vocab.id('<think>'), close: vocab.id('</think>')};
  // Encoded once per tool name: requests offering the same tool share it.
  const toolCalls = new Map<string, number[]>();
  const toolCallTokens = async (name: string) => {
    let ids = toolCalls.get(name);
    if (!ids) toolCalls.set(name, (ids = await encoder.encode(`<tool_call>\n${JSON.stringify({name, arguments: {}})}\n</tool_call>`)));
    return ids;
  };
  return {
    eosTokenId: text.eosTokenId,
    tokenSource: async (req, maxTokens) => {
      // A migrated request: the original request's source, past the tokens already generated.
      const r = req.resumed;
      const prompt = r ? req.tokenIds.slice(0, r.promptTokens) : req.tokenIds;
      const next = text.tokens(seedFor(req.seed, prompt), {
        ignoreEos: req.ignoreEos,
        minTokens: r ? r.minTokens : req.minTokens,
        maxTokens: r ? maxTokens + r.generatedTokens : maxTokens,
        think: think && thinkingFor(prompt, tags, think),
        toolCall: req.mockToolCall ? await toolCallTokens(req.mockToolCall) : undefined,
      });
      for (let i = 0; i < (r?.generatedTokens ?? 0); i++) next();
      return next;
    },
  };
}

/**
 * Whether and how the reply thinks, as the chat template decided in the prompt's last tokens: a
 * template that opens the think block (DeepSeek-R1's `<｜Assistant｜><think>\n`) gets the thought
 * without the opening tag, one that closes it at once (Qwen3 with enable_thinking false) gets no
 * thought, and otherwise the model opens the block itself.
 */
export function thinkingFor(
  prompt: readonly number[],
  tags: {open?: number; close?: number},
  think: {open: number[]; close: number[]},
): {open: number[]; close: number[]} | undefined {
  const tail = prompt.slice(-6);
  const opened = tags.open === undefined ? -1 : tail.lastIndexOf(tags.open);
  if (opened < 0) return think;
  return tags.close !== undefined && tail.indexOf(tags.close, opened) >= 0 ? undefined : {open: [], close: think.close};
}
