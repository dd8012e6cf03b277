/**
 * Prompt encoding with a prefix cache. Hugging Face tokenizers split text at added (special)
 * tokens before anything else, so the text between two special tokens always encodes the same
 * way. Chat templates put special tokens between messages, so a multi-turn conversation repeats
 * its earlier segments verbatim: each segment's ids are cached (LRU, bounded by tokens) and only
 * new text is encoded. The result equals encoding the whole string at once.
 * New text goes through the JS byte-level BPE (bpe.ts) when the tokenizer's configuration allows,
 * else through Hugging Face's native tokenizer.
 */
import {Tokenizer} from 'tokenizers';
import {BpeEncoder} from './bpe.js';
import type {Vocab} from './vocab.js';

export interface EncoderStats {
  segments: number;
  cachedSegments: number;
  tokens: number;
  cachedTokens: number;
}

export class PromptEncoder {
  private readonly native: Tokenizer;
  private readonly bpe?: BpeEncoder;
  private readonly splitter?: RegExp;
  private readonly specialIds: Map<string, number>;
  private readonly cache = new Map<string, number[]>();
  private cachedTokenCount = 0;
  /** Ids the tokenizer's post-processor puts first when special tokens are added (e.g. BOS). */
  private bosPrefix: number[] = [];
  readonly stats: EncoderStats = {segments: 0, cachedSegments: 0, tokens: 0, cachedTokens: 0};

  private constructor(
    tokenizerJson: string,
    vocab: Vocab,
    private readonly maxCachedTokens: number,
  ) {
    this.native = Tokenizer.fromString(tokenizerJson);
    this.bpe = BpeEncoder.tryCreate(JSON.parse(tokenizerJson));
    this.specialIds = new Map(vocab.added.map((t) => [t.content, t.id]));
    const contents = vocab.added.map((t) => t.content).filter(Boolean);
    if (contents.length) {
      contents.sort((a, b) => b.length - a.length);
      this.splitter = new RegExp(`(${contents.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
    }
  }

  static async create(tokenizerJson: string, vocab: Vocab, maxCachedTokens = 4_000_000): Promise<PromptEncoder> {
    const e = new PromptEncoder(tokenizerJson, vocab, maxCachedTokens);
    e.bosPrefix = (await e.native.encode('', null, {addSpecialTokens: true})).getIds();
    return e;
  }

  /** Encodes `text`; `addSpecialTokens` adds what the tokenizer's post-processor adds (BOS), as for completions. */
  async encode(text: string, addSpecialTokens = false): Promise<number[]> {
    const parts = this.splitter ? text.split(this.splitter) : [text];
    const pieces = await Promise.all(parts.map((p, i) => (i % 2 === 1 ? [this.specialIds.get(p)!] : this.segment(p))));
    const ids = addSpecialTokens ? [...this.bosPrefix] : [];
    for (const p of pieces) for (const id of p) ids.push(id);
    return ids;
  }

  private async segment(text: string): Promise<number[]> {
    if (!text) return [];
    this.stats.segments++;
    const hit = this.cache.get(text);
    if (hit) {
      // Refresh recency: Map order is the LRU order.
      this.cache.delete(text);
      this.cache.set(text, hit);
      this.stats.cachedSegments++;
      this.stats.cachedTokens += hit.length;
      this.stats.tokens += hit.length;
      return hit;
    }
    const ids = this.bpe ? this.bpe.encode(text) : (await this.native.encode(text, null, {addSpecialTokens: false})).getIds();
    this.stats.tokens += ids.length;
    this.cache.set(text, ids);
    this.cachedTokenCount += ids.length;
    for (const [k, v] of this.cache) {
      if (this.cachedTokenCount <= this.maxCachedTokens) break;
      this.cache.delete(k);
      this.cachedTokenCount -= v.length;
    }
    return ids;
  }

  /** Encodes with the native tokenizer alone, without splitting or caching (the reference). */
  /** Which encoder handles new text: the JS BPE, or the native tokenizer. */
  get engine(): 'js-bpe' | 'native' {
    return this.bpe ? 'js-bpe' : 'native';
  }

  async encodeUncached(text: string, addSpecialTokens = false): Promise<number[]> {
    return (await this.native.encode(text, null, {addSpecialTokens})).getIds();
  }
}
