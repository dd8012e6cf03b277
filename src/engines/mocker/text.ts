/**
 * Deterministic, readable mocker output: words that are single tokens in the model's vocabulary,
 * in sentences, drawn from a PRNG seeded by the request's seed and prompt. The same request gives
 * the same text; a reply ends naturally (EOS) after a seeded length unless EOS is ignored.
 */
import {prng} from '../../shared/prng.js';
import type {Vocab} from '../../tokenizer/vocab.js';

const WORDS = (
  'the of and to in is that it for as with was on be by this are from at or an have not which but ' +
  'they all we can one there their more about when would will so what up out if into time has two ' +
  'some could other than then now only its over also new these may first any people like how most ' +
  'made after where through just many before good well way even because each those very system ' +
  'model data cache memory token request worker prefix block route load serving latency fast small ' +
  'large simple clear better every light water world number part place work long great little old ' +
  'right still find here thing give same another know while last might us great since against'
).split(' ');

export function seedFor(seed: number | undefined, prompt: readonly number[]): number {
  let h = (seed ?? 0) ^ 0x9e3779b9 ^ prompt.length;
  for (let i = 0; i < prompt.length; i += Math.max(1, prompt.length >> 6)) h = Math.imul(h ^ prompt[i]!, 0x01000193);
  return h >>> 0;
}

export class ReadableText {
  private constructor(
    private readonly words: number[],
    private readonly capitalWords: number[],
    /** Capitalized words without a leading space, to open a reply. */
    private readonly openingWords: number[],
    private readonly period: number | undefined,
    readonly eosTokenId: number | undefined,
  ) {}

  static fromVocab(vocab: Vocab, eosToken?: string): ReadableText {
    const single = (w: string) => vocab.id(`Ġ${w}`) ?? vocab.id(`▁${w}`);
    const words = WORDS.map(single).filter((x): x is number => x !== undefined);
    const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
    const caps = WORDS.map((w) => single(capital(w))).filter((x): x is number => x !== undefined);
    const opening = WORDS.map((w) => vocab.id(capital(w))).filter((x): x is number => x !== undefined);
    if (words.length < 20) throw new Error('the vocabulary has too few whole-word tokens for readable mocker output');
    const capitals = caps.length ? caps : words;
    return new ReadableText(words, capitals, opening.length ? opening : capitals, vocab.id('.'), eosToken ? vocab.id(eosToken) : undefined);
  }

  /**
   * A token source for one request. Reasoning models think first (`think` = the token ids of the
   * opening and closing tags, always emitted, as R1 does), for about 30 % of the reply; a requested tool call is emitted as the
   * answer, then EOS.
   */
  tokens(
    seed: number,
    opts: {ignoreEos?: boolean; minTokens?: number; maxTokens?: number; think?: {open: number[]; close: number[]}; toolCall?: number[]} = {},
  ): () => number {
    const rand = prng(seed);
    const pick = (xs: number[]) => xs[Math.floor(rand() * xs.length)]!;
    const naturalLength = Math.max(opts.minTokens ?? 0, 24 + Math.floor(rand() * 240));
    const eos = opts.ignoreEos ? undefined : this.eosTokenId;
    let sentenceLeft = 0;
    let opening = true;
    const word = () => {
      if (sentenceLeft === 0) {
        sentenceLeft = 5 + Math.floor(rand() * 10);
        const first = opening;
        opening = false;
        return pick(first ? this.openingWords : this.capitalWords);
      }
      if (--sentenceLeft === 0 && this.period !== undefined) return this.period;
      return pick(this.words);
    };
    const budget = Math.min(naturalLength, opts.maxTokens ?? naturalLength);
    function* script(): Generator<number, never> {
      let n = 0;
      if (opts.think) {
        // At least one word of thought: else a tiny max_tokens holds only the closing tag, and
        // nothing the client can see (a real reasoning model thinks before anything else).
        const thinking = Math.max(Math.floor(budget * 0.3), Math.min(budget, 1));
        const thought = [...opts.think.open, ...Array.from({length: thinking}, word), ...opts.think.close];
        n += thought.length;
        yield* thought;
        sentenceLeft = 0;
        opening = true;
      }
      if (opts.toolCall) {
        n += opts.toolCall.length;
        yield* opts.toolCall;
        if (eos !== undefined) yield eos;
      }
      for (;;) {
        if (eos !== undefined && n >= naturalLength) yield eos;
        else {
          n++;
          yield word();
        }
      }
    }
    const it = script();
    return () => it.next().value;
  }
}
