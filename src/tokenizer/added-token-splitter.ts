/**
 * Splits text at a tokenizer's added tokens, as `text.split(/(a|b|…)/)` does with the tokens longest
 * first: [text, token, text, …, text], a matched token at every odd index. Why not just that split:
 * with DeepSeek's ~800 added tokens it costs ~12 µs on a 5,000-character prompt. When every added
 * token starts with the same character (they do in the bundled families), a native indexOf finds
 * the only places one can start, and the alternation is tried there alone (sticky).
 */
export class AddedTokenSplitter {
  private readonly search: RegExp;
  private readonly sticky: RegExp;
  /** The first character every added token shares; undefined when they do not share one. */
  private readonly lead?: string;

  constructor(contents: readonly string[]) {
    const longestFirst = [...contents].sort((a, b) => b.length - a.length);
    const alternation = longestFirst.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
    this.search = new RegExp(`(${alternation})`);
    this.sticky = new RegExp(alternation, 'y');
    const first = longestFirst[0]?.[0];
    if (first !== undefined && longestFirst.every((c) => c[0] === first)) this.lead = first;
  }

  split(text: string): string[] {
    if (this.lead === undefined) return text.split(this.search);
    const out: string[] = [];
    let last = 0;
    for (let i = text.indexOf(this.lead); i >= 0; ) {
      this.sticky.lastIndex = i;
      const m = this.sticky.exec(text);
      if (!m) {
        i = text.indexOf(this.lead, i + 1);
        continue;
      }
      out.push(text.slice(last, i), m[0]);
      last = i + m[0].length;
      i = text.indexOf(this.lead, last);
    }
    out.push(text.slice(last));
    return out;
  }
}
