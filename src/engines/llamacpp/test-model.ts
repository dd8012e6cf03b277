/**
 * Builds a small llama-architecture GGUF from a real vocabulary (the tokenizer families embedded in
 * the binary) and seeded random weights. llama.cpp loads and runs it like any model: tokenization,
 * chat template, KV cache and decoding are real; the text it writes is meaningless. Real weights
 * give real text — these exist so tests and demos run anywhere, with no download.
 */
import type {ModelInfo} from '../../config/models.js';
import type {MetaValue} from '../../gguf/format.js';
import {type TensorSource, writeGguf} from '../../gguf/write.js';
import {prng} from '../../shared/prng.js';
import {loadTokenizerFiles} from '../../tokenizer/bundled.js';

export type VocabFamily = ModelInfo['tokenizerFamily'];

export interface TestModelShape {
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  contextLength: number;
}

/**
 * ~17 M parameters with a 128 k vocabulary, nearly all of them in the embedding and the output.
 * The output matrix is its own: tied to the embedding, a random model mostly repeats its input.
 */
export const DEFAULT_SHAPE: TestModelShape = {embedding: 64, layers: 4, heads: 4, kvHeads: 2, feedForward: 192, contextLength: 4096};

/** How llama.cpp names each family's pre-tokenizer (its `tokenizer.ggml.pre`), and whether it adds BOS. */
const FAMILY: Record<VocabFamily, {pre: string; addBos: boolean}> = {
  llama3_1: {pre: 'llama-bpe', addBos: true},
  deepseek_v3: {pre: 'deepseek-v3', addBos: true},
  qwen3: {pre: 'qwen2', addBos: false},
};

const TOKEN_NORMAL = 1;
const TOKEN_UNUSED = 5;
const TOKEN_CONTROL = 3;
const TOKEN_USER_DEFINED = 4;

interface TokenizerJson {
  model: {vocab: Record<string, number>; merges: (string | [string, string])[]};
  added_tokens: {id: number; content: string; special: boolean}[];
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'content' in value) return String((value as {content: unknown}).content);
  return undefined;
}

/** The vocabulary and template metadata llama.cpp reads, from a tokenizer.json and its config. */
export function vocabMetadata(family: VocabFamily, tokenizerJson: string, config: Record<string, unknown>): [string, MetaValue][] {
  const tok = JSON.parse(tokenizerJson) as TokenizerJson;
  let size = 0;
  for (const id of Object.values(tok.model.vocab)) size = Math.max(size, id + 1);
  for (const t of tok.added_tokens) size = Math.max(size, t.id + 1);
  const tokens: string[] = Array.from({length: size}, (_, i) => `[PAD${i}]`);
  const types: number[] = new Array(size).fill(TOKEN_UNUSED);
  for (const [text, id] of Object.entries(tok.model.vocab)) {
    tokens[id] = text;
    types[id] = TOKEN_NORMAL;
  }
  for (const t of tok.added_tokens) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TOKEN_CONTROL : TOKEN_USER_DEFINED;
  }
  const idOf = (value: unknown) => {
    const text = tokenText(value);
    const id = text === undefined ? undefined : tokens.indexOf(text);
    return id !== undefined && id >= 0 ? id : undefined;
  };
  const merges = tok.model.merges.map((m) => (typeof m === 'string' ? m : m.join(' ')));
  const meta: [string, MetaValue][] = [
    ['tokenizer.ggml.model', {type: 'string', value: 'gpt2'}],
    ['tokenizer.ggml.pre', {type: 'string', value: FAMILY[family].pre}],
    ['tokenizer.ggml.tokens', {type: 'array', of: 'string', value: tokens}],
    ['tokenizer.ggml.token_type', {type: 'array', of: 'i32', value: types}],
    ['tokenizer.ggml.merges', {type: 'array', of: 'string', value: merges}],
    ['tokenizer.ggml.add_bos_token', {type: 'bool', value: FAMILY[family].addBos}],
  ];
  const bos = idOf(config.bos_token);
  const eos = idOf(config.eos_token);
  const pad = idOf(config.pad_token);
  if (bos !== undefined) meta.push(['tokenizer.ggml.bos_token_id', {type: 'u32', value: bos}]);
  if (eos !== undefined) meta.push(['tokenizer.ggml.eos_token_id', {type: 'u32', value: eos}]);
  if (pad !== undefined) meta.push(['tokenizer.ggml.padding_token_id', {type: 'u32', value: pad}]);
  if (typeof config.chat_template === 'string') meta.push(['tokenizer.chat_template', {type: 'string', value: config.chat_template}]);
  return meta;
}

/** Seeded normal values (Box–Muller) with this standard deviation. */
function gaussian(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rand())) * std;
    const a = 2 * Math.PI * rand();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** The llama architecture's tensors in ggml order (ne[0] = input width), with seeded weights. */
export function llamaTensors(shape: TestModelShape, vocabSize: number, seed: number): TensorSource[] {
  const rand = prng(seed);
  const {embedding: d, feedForward: ff} = shape;
  const headDim = d / shape.heads;
  const kv = headDim * shape.kvHeads;
  // Embedding entries of unit scale keep the tied output's logits far apart, so greedy decoding
  // has no near-ties that a different batch shape could tip; inner layers scale as 1/√width.
  const matrix = (name: string, inner: number, outer: number, std = 1 / Math.sqrt(inner)): TensorSource => ({name, shape: [inner, outer], type: 'Q8_0', values: gaussian(rand, inner * outer, std)});
  const ones = (name: string, n: number): TensorSource => ({name, shape: [n], type: 'F32', values: new Float32Array(n).fill(1)});
  const tensors: TensorSource[] = [matrix('token_embd.weight', d, vocabSize, 1), ones('output_norm.weight', d), matrix('output.weight', d, vocabSize, 1)];
  for (let l = 0; l < shape.layers; l++) {
    tensors.push(
      ones(`blk.${l}.attn_norm.weight`, d),
      matrix(`blk.${l}.attn_q.weight`, d, d),
      matrix(`blk.${l}.attn_k.weight`, d, kv),
      matrix(`blk.${l}.attn_v.weight`, d, kv),
      matrix(`blk.${l}.attn_output.weight`, d, d),
      ones(`blk.${l}.ffn_norm.weight`, d),
      matrix(`blk.${l}.ffn_gate.weight`, d, ff),
      matrix(`blk.${l}.ffn_up.weight`, d, ff),
      matrix(`blk.${l}.ffn_down.weight`, ff, d),
    );
  }
  return tensors;
}

export interface TestModelOptions {
  family: VocabFamily;
  seed?: number;
  shape?: TestModelShape;
  name?: string;
}

/** Writes the model; returns its parameter count and size. */
export async function writeTestModel(path: string, options: TestModelOptions): Promise<{parameters: number; bytes: number}> {
  const shape = options.shape ?? DEFAULT_SHAPE;
  const files = await loadTokenizerFiles({tokenizerFamily: options.family} as ModelInfo);
  const vocab = vocabMetadata(options.family, files.tokenizerJson, files.tokenizerConfig);
  const vocabSize = (vocab.find(([k]) => k === 'tokenizer.ggml.tokens')![1].value as string[]).length;
  const tensors = llamaTensors(shape, vocabSize, options.seed ?? 1);
  const u32 = (value: number): MetaValue => ({type: 'u32', value});
  const metadata: [string, MetaValue][] = [
    ['general.architecture', {type: 'string', value: 'llama'}],
    ['general.name', {type: 'string', value: options.name ?? `dynamo-test-${options.family}`}],
    ['general.file_type', u32(7)], // LLAMA_FTYPE_MOSTLY_Q8_0
    ['llama.context_length', u32(shape.contextLength)],
    ['llama.embedding_length', u32(shape.embedding)],
    ['llama.block_count', u32(shape.layers)],
    ['llama.feed_forward_length', u32(shape.feedForward)],
    ['llama.attention.head_count', u32(shape.heads)],
    ['llama.attention.head_count_kv', u32(shape.kvHeads)],
    ['llama.rope.dimension_count', u32(shape.embedding / shape.heads)],
    ['llama.rope.freq_base', {type: 'f32', value: 500000}],
    ['llama.attention.layer_norm_rms_epsilon', {type: 'f32', value: 1e-5}],
    ['llama.vocab_size', u32(vocabSize)],
    ...vocab,
  ];
  const bytes = writeGguf(path, metadata, tensors);
  return {parameters: tensors.reduce((a, t) => a + t.values.length, 0), bytes};
}
