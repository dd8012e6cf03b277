/**
 * Prompt encoding with two caches. Hugging Face tokenizers split text at added (special) tokens
 * before anything else, so the text between two special tokens always encodes the same way, and
 * so does a prefix that ends at one. Chat templates put special tokens between messages:
 * - a conversation's next prompt starts with the last one's up to its last special token: given
 *   that prefix and its ids (`encodeContinuing`, checked with startsWith, kept by the caller per
 *   conversation), only the new suffix is split and encoded;
 * - each segment's ids are cached (bounded by tokens, least recently used out), so text repeated
 *   across conversations (a shared system prompt) is not encoded twice.
 * The result equals encoding the whole string at once.
 * New text goes through the JS byte-level BPE (bpe.ts) when the tokenizer's configuration allows,
 * else through Hugging Face's native tokenizer.
 */
import {Tokenizer} from 'tokenizers';
import {detached} from '../shared/detached.js';
import {GenerationalCache} from '../shared/generational-cache.js';
import {AddedTokenSplitter} from './added-token-splitter.js';
import {BpeEncoder} from './bpe.js';
import type {Vocab} from './vocab.js';

export interface EncoderStats {
  segments: number;
  cachedSegments: number;
  tokens: number;
  cachedTokens: number;
}

/**
 * A prompt's start up to its last added token, with its ids, and the last few points where an
 * added token ends (`cuts`, ascending): what the next turn reuses. Several cuts, because the
 * prompt's generation prompt may not come back in the next one (R1's `<｜Assistant｜><think>\n`
 * returns as `<｜Assistant｜>` and the reply).
 */
export interface EncodedPrefix {
  text: string;
  /** The ids of the prompt it came from: the prefix's are the first (its last cut's `ids`); shared, never changed. */
  ids: readonly number[];
  cuts: {chars: number; ids: number}[];
}

const CUTS_KEPT = 3;

/** The longest of the prefix's cuts that `text` starts with. */
function longestCut(text: string, prefix: EncodedPrefix): {chars: number; ids: number} | undefined {
  for (let i = prefix.cuts.length - 1; i >= 0; i--) {
    const c = prefix.cuts[i]!;
    if (c.chars === prefix.text.length ? text.startsWith(prefix.text) : text.startsWith(prefix.text.slice(0, c.chars))) return c;
  }
  return undefined;
}

export class PromptEncoder {
  private readonly native: Tokenizer;
  private readonly bpe?: BpeEncoder;
  private readonly splitter?: AddedTokenSplitter;
  private readonly specialIds: Map<string, number>;
  private readonly cache: GenerationalCache<string, number[]>;
  /** Ids the tokenizer's post-processor puts first when special tokens are added (e.g. BOS). */
  private bosPrefix: number[] = [];
  /**
   * A prefix ending at an added token splits the same way inside a longer text unless one added
   * token contains another (a match could then run across the prefix's end): checked once.
   */
  private readonly prefixesSplitAlike: boolean;
  readonly stats: EncoderStats = {segments: 0, cachedSegments: 0, tokens: 0, cachedTokens: 0};

  private constructor(
    tokenizerJson: string,
    vocab: Vocab,
    maxCachedTokens: number,
  ) {
    this.cache = new GenerationalCache(maxCachedTokens, (ids) => ids.length);
    this.native = Tokenizer.fromString(tokenizerJson);
    this.bpe = BpeEncoder.tryCreate(JSON.parse(tokenizerJson));
    this.specialIds = new Map(vocab.added.map((t) => [t.content, t.id]));
    const contents = vocab.added.map((t) => t.content).filter(Boolean);
    this.prefixesSplitAlike = !contents.some((a) => contents.some((b) => a !== b && b.includes(a)));
    if (contents.length) this.splitter = new AddedTokenSplitter(contents);
  }

  static async create(tokenizerJson: string, vocab: Vocab, maxCachedTokens = 4_000_000): Promise<PromptEncoder> {
    const e = new PromptEncoder(tokenizerJson, vocab, maxCachedTokens);
    e.bosPrefix = (await e.native.encode('', null, {addSpecialTokens: true})).getIds();
    return e;
  }

  /** Encodes `text`; `addSpecialTokens` adds what the tokenizer's post-processor adds (BOS), as for completions. */
  async encode(text: string, addSpecialTokens = false): Promise<number[]> {
    const ids = addSpecialTokens ? [...this.bosPrefix] : [];
    await this.encodeInto(text, 0, ids);
    return ids;
  }

  /**
   * Encodes a chat prompt, reusing `prefix` (an earlier prompt's start, from `encodeContinuing`)
   * when the text starts with it. Returns the ids, how many came from the prefix, and this prompt's
   * own longest prefix ending at an added token, for its next turn.
   */
  async encodeContinuing(text: string, prefix?: EncodedPrefix): Promise<{ids: number[]; reused: number; prefix?: EncodedPrefix}> {
    const reuse = prefix && this.prefixesSplitAlike ? longestCut(text, prefix) : undefined;
    const cuts = reuse ? prefix!.cuts.filter((c) => c.chars <= reuse.chars) : [];
    // Array copies are native and fast; the prefix's ids are never mutated (they are shared).
    const ids = reuse ? prefix!.ids.slice(0, reuse.ids) : [];
    await this.encodeInto(text, reuse?.chars ?? 0, ids, cuts);
    const last = cuts.at(-1);
    // The prompt's ids themselves, not a copy of their start: a next turn copies only what it reuses.
    const own = last && {text: text.slice(0, last.chars), ids, cuts: cuts.slice(-CUTS_KEPT)};
    return {ids, reused: reuse?.ids ?? 0, prefix: own};
  }

  /** Appends the ids of text[from..] to `ids`; where an added token ends goes into `cuts` (in chars of `text`, in ids), if given. */
  private async encodeInto(text: string, from: number, ids: number[], cuts?: {chars: number; ids: number}[]): Promise<void> {
    const rest = from ? text.slice(from) : text;
    const parts = this.splitter ? this.splitter.split(rest) : [rest];
    let at = from;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      at += p.length;
      if (i % 2 === 1) {
        ids.push(this.specialIds.get(p)!);
        cuts?.push({chars: at, ids: ids.length});
        continue;
      }
      if (!p) continue;
      // A segment much shorter than the prompt is cached as a copy: a slice would keep the prompt.
      const copy = 2 * p.length < text.length;
      const seg = this.bpe ? this.segmentSync(p, copy) : await this.segment(p, copy);
      for (let j = 0; j < seg.length; j++) ids.push(seg[j]!);
    }
  }

  private async segment(text: string, copy: boolean): Promise<number[]> {
    return this.cached(text) ?? this.remember(text, copy, (await this.native.encode(text, null, {addSpecialTokens: false})).getIds());
  }

  private segmentSync(text: string, copy: boolean): number[] {
    return this.cached(text) ?? this.remember(text, copy, this.bpe!.encode(text));
  }

  private cached(text: string): number[] | undefined {
    this.stats.segments++;
    const hit = this.cache.get(text);
    if (hit) {
      this.stats.cachedSegments++;
      this.stats.cachedTokens += hit.length;
      this.stats.tokens += hit.length;
    }
    return hit;
  }

  private remember(text: string, copy: boolean, ids: number[]): number[] {
    this.stats.tokens += ids.length;
    this.cache.set(copy ? detached(text) : text, ids);
    return ids;
  }

  /** Which encoder handles new text: the JS BPE, or the native tokenizer. */
  get engine(): 'js-bpe' | 'native' {
    return this.bpe ? 'js-bpe' : 'native';
  }

  /** Encodes with the native tokenizer alone, without splitting or caching (the reference). */
  async encodeUncached(text: string, addSpecialTokens = false): Promise<number[]> {
    return (await this.native.encode(text, null, {addSpecialTokens})).getIds();
  }
}
