/**
 * A GGUF model's tokenizer as the frontend's tokenizer reads it (a tokenizer.json and its config),
 * rebuilt from the file's `tokenizer.ggml.*` metadata: the vocabulary, merges, token types and
 * special ids are the file's own; the pre-tokenizer and decoder are those of the family llama.cpp
 * names in `tokenizer.ggml.pre`, taken from the bundled tokenizer of that family, so the frontend
 * splits text exactly as llama.cpp does (a test compares the two on every family).
 */
import {UserError} from '../shared/errors.js';
import {type GgufHeader, meta, metaNumber, metaString} from '../gguf/read.js';
import type {TokenizerFiles} from './bundled.js';

export type GgufTokenizerFamily = 'llama3_1' | 'qwen3' | 'deepseek_v3';

/** llama.cpp's pre-tokenizer names (`tokenizer.ggml.pre`) this frontend splits alike. */
export const GGUF_PRE_TOKENIZERS: Record<string, GgufTokenizerFamily> = {
  'llama-bpe': 'llama3_1',
  llama3: 'llama3_1',
  qwen2: 'qwen3',
  'deepseek-v3': 'deepseek_v3',
};

const ADDS_BOS_BY_DEFAULT = new Set(['llama-bpe', 'llama3', 'deepseek-v3']);

const CONTROL = 3;
const USER_DEFINED = 4;
const UNUSED = 5;

/** The family whose pre-tokenizer matches the file's, or a UserError naming what is supported. */
export function ggufTokenizerFamily(header: GgufHeader, file: string): GgufTokenizerFamily {
  const model = metaString(header, 'tokenizer.ggml.model');
  const pre = metaString(header, 'tokenizer.ggml.pre') ?? 'default';
  if (model !== 'gpt2' || !GGUF_PRE_TOKENIZERS[pre]) {
    throw new UserError(
      `${file}: its tokenizer (${model ?? 'none'}, pre-tokenizer "${pre}") is not one the frontend tokenizes like llama.cpp`,
      `use a GGUF whose tokenizer.ggml.pre is one of: ${Object.keys(GGUF_PRE_TOKENIZERS).join(', ')} (Llama 3, Qwen 2/3, DeepSeek V3/R1 vocabularies)`,
    );
  }
  return GGUF_PRE_TOKENIZERS[pre]!;
}

/** tokenizer.json and tokenizer_config.json for the file, given its family's bundled files. */
export function ggufTokenizerFiles(header: GgufHeader, family: TokenizerFiles): TokenizerFiles {
  const tokens = meta(header, 'tokenizer.ggml.tokens') as string[];
  const types = (meta(header, 'tokenizer.ggml.token_type') as number[] | undefined) ?? [];
  const merges = (meta(header, 'tokenizer.ggml.merges') as string[] | undefined) ?? [];
  const vocab: Record<string, number> = {};
  const added: {id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean}[] = [];
  tokens.forEach((content, id) => {
    const type = types[id] ?? 1;
    if (type === CONTROL || type === USER_DEFINED) added.push({id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: type === CONTROL});
    // Added tokens stay in the vocabulary too (as in DeepSeek's own tokenizer.json): ids are looked up there.
    if (type !== UNUSED) vocab[content] = id;
  });
  const bundled = JSON.parse(family.tokenizerJson) as Record<string, unknown> & {model: Record<string, unknown>};
  const tokenizerJson = JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: bundled.normalizer ?? null,
    pre_tokenizer: bundled.pre_tokenizer,
    post_processor: null,
    decoder: bundled.decoder,
    model: {...bundled.model, vocab, merges},
  });
  const tokenAt = (key: string) => {
    const id = metaNumber(header, key);
    return id === undefined ? undefined : tokens[id];
  };
  const tokenizerConfig: Record<string, unknown> = {
    bos_token: tokenAt('tokenizer.ggml.bos_token_id') ?? null,
    eos_token: tokenAt('tokenizer.ggml.eos_token_id') ?? null,
    pad_token: tokenAt('tokenizer.ggml.padding_token_id') ?? null,
    // Absent, llama.cpp decides by pre-tokenizer: Llama 3 and DeepSeek add BOS, Qwen does not.
    add_bos_token: meta(header, 'tokenizer.ggml.add_bos_token') ?? ADDS_BOS_BY_DEFAULT.has(metaString(header, 'tokenizer.ggml.pre') ?? ''),
  };
  const template = metaString(header, 'tokenizer.chat_template');
  if (template !== undefined) tokenizerConfig.chat_template = template;
  else if (family.tokenizerConfig.chat_template) tokenizerConfig.chat_template = family.tokenizerConfig.chat_template;
  return {tokenizerJson, tokenizerConfig};
}
