/**
 * Token counting and token-exact prompt text for `dynamo bench`.
 * Prompts are built from words that are one token each in the model's tokenizer, written with a
 * leading space (" cache"): byte-level BPE pre-tokenizers split text before every such word, so N
 * words encode to exactly N tokens and a shared prefix stays a token-aligned prefix. Without a
 * known tokenizer a list of common English words stands in and token counts come from `usage`.
 */
import {existsSync} from 'node:fs';
import {UserError} from '../shared/errors.js';
import {MODEL_ALIASES, type ModelInfo, catalogModels, resolveModel} from '../config/models.js';
import {loadTokenizerFiles} from '../tokenizer/bundled.js';
import {PromptEncoder} from '../tokenizer/encoder.js';
import {Vocab} from '../tokenizer/vocab.js';

export interface TokenCounter {
  /** Which tokenizer counts (a model alias or directory). */
  readonly name: string;
  count(text: string): Promise<number>;
}

export interface BenchTokenizer {
  counter?: TokenCounter;
  /** Words that are one token each, with their leading space. */
  words: readonly string[];
}

const COMMON = `the of and to in is for on that with as by at from this be are was it or an not have has but all
can will one more new about time year work other which their after first also use these many then them some
would make like into over only most well data model cache block token route serve load state value point part
group level order place house world water light power story field music table paper money night city river
market school system number people family friend answer reason method result energy garden window letter`.split(/\s+/);

/** A model by alias, Hugging Face id or local directory; undefined when unknown. */
function findModel(name: string): ModelInfo | undefined {
  const byHf = catalogModels().find((m) => m.hfId.toLowerCase() === name.toLowerCase());
  if (byHf) return byHf;
  if (MODEL_ALIASES.includes(name.toLowerCase()) || existsSync(name)) return resolveModel(name);
  return undefined;
}

/** Candidate words of a vocabulary: lower-case letter runs after the word-start marker, most frequent (lowest id) first. */
function candidateWords(vocab: Vocab): string[] {
  const out: [number, string][] = [];
  for (const [tok, id] of vocab.tokenToId) {
    const m = /^[Ġ▁]([a-z]{3,9})$/.exec(tok);
    if (m) out.push([id, m[1]!]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, w]) => ` ${w}`);
}

/**
 * The tokenizer named (or the model's, when `explicit` is false and it is known). An explicit
 * name that cannot be found is an error; an unknown model just means no re-tokenizing.
 */
export async function loadBenchTokenizer(name: string | undefined, explicit: boolean): Promise<BenchTokenizer> {
  const info = name ? findModel(name) : undefined;
  if (!info) {
    if (explicit) throw new UserError(`unknown tokenizer "${name}"`, `use a model alias (${MODEL_ALIASES.join(', ')}), a Hugging Face id of one, or a local model directory`);
    return {words: COMMON.map((w) => ` ${w}`)};
  }
  const files = await loadTokenizerFiles(info);
  const vocab = Vocab.fromJson(files.tokenizerJson);
  const encoder = await PromptEncoder.create(files.tokenizerJson, vocab);
  const words: string[] = [];
  for (const w of candidateWords(vocab)) {
    if ((await encoder.encode(w)).length === 1) words.push(w);
    if (words.length >= 4096) break;
  }
  if (words.length < 64) throw new UserError(`tokenizer of ${info.name} has too few whole-word tokens to build prompts`, 'pass --tokenizer with a BPE model (Llama, Qwen, DeepSeek)');
  return {words, counter: {name: info.name, count: async (text) => (text ? (await encoder.encode(text)).length : 0)}};
}

/** `n` one-token words drawn with `rand`. */
export function wordsText(words: readonly string[], n: number, rand: () => number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += words[Math.floor(rand() * words.length)];
  return s;
}
