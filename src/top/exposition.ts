/**
 * A parser for the Prometheus text exposition format 0.0.4, as every source `top` watches serves it
 * (vLLM and SGLang through prometheus_client, Dynamo through its Rust registry, this project through
 * src/metrics/prometheus.ts). Accepted: `# HELP` / `# TYPE` lines, labels with escaped `\\`, `\"`
 * and `\n`, a trailing comma in a label set, `+Inf` / `-Inf` / `NaN`, exponent numbers, an optional
 * timestamp (ignored), CRLF line ends, and OpenMetrics-style counters whose TYPE line omits `_total`.
 *
 * Rules:
 * - A family is named as its samples are scraped: a counter by its `_total` name, a histogram by
 *   its base name (samples `_bucket`, `_sum`, `_count`). A sample with no TYPE line before it is a
 *   family of its own, type `untyped`.
 * - `_created` samples (prometheus_client's creation timestamps) are dropped, and so is the
 *   `X_created` gauge family prometheus_client emits beside a counter or histogram `X`.
 * - A malformed line is skipped; one bad line never costs the rest of the page.
 *
 * Cost: one pass with indexOf and charCodeAt, no regular expressions. With `only`, a family not in
 * the set is skipped unread: the format keeps a family's lines in one group after its TYPE line, so
 * its samples run to the next comment line, found with one indexOf; no labels or numbers are read
 * and nothing is allocated for them. (An untyped sample written right after a skipped group with no
 * comment line between is skipped with it; exporters that write TYPE lines never do that.)
 */

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
export type Labels = Record<string, string>;

export interface Sample {
  /** The name on the wire: `x_bucket`, `x_sum`, `x_total`, … */
  name: string;
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  /** Counters by their `_total` name, histograms and summaries by their base name. */
  name: string;
  type: FamilyType;
  help?: string;
  samples: Sample[];
}

export interface ParseOptions {
  /** Family names to parse (as `MetricFamily.name`); every other family is skipped unread. */
  only?: ReadonlySet<string>;
  /**
   * Label sets already parsed, by their text on the wire: a source repeats the same label sets on
   * every scrape, so pass one map per source and each set is parsed once. Samples then share their
   * `labels` objects: treat them as read-only.
   */
  labelCache?: Map<string, Labels>;
}

const LABEL_CACHE_MAX = 4096;

// Each filter's names as the filter holds them. A name sliced from a page keeps the whole page in
// memory while it lives (JavaScriptCore substrings share their base string), and a family name
// outlives its scrape (the store keeps the latest names): one held name is enough to have every
// page promoted to the old generation and kept there until a full collection, which comes late
// because the page bytes sit outside the heap (top at 64 sources grew ~3.5 MB per refresh).
const canonicalNames = new WeakMap<ReadonlySet<string>, Map<string, string>>();
function canonical(only: ReadonlySet<string>): Map<string, string> {
  let names = canonicalNames.get(only);
  if (!names) canonicalNames.set(only, (names = new Map([...only].map((n) => [n, n]))));
  return names;
}
const NO_LABELS: Labels = Object.freeze({}) as Labels;

const SUFFIXES: Record<FamilyType, readonly string[]> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
  gauge: [],
  untyped: [],
};

const SPACE = 32;
const TAB = 9;
const CR = 13;
const HASH = 35;
const LBRACE = 123;
const RBRACE = 125;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;

const isBlank = (c: number) => c === SPACE || c === TAB;

interface Current {
  /** The name as written on the TYPE line (what sample names start with). */
  wire: string;
  type: FamilyType;
  /** Undefined when the family is skipped. */
  family?: MetricFamily;
  /** The sample names the family may use (wire name, then with each suffix of its type). */
  names?: readonly string[];
}

/** Parses a /metrics page into its families, keyed by family name. */
export function parseExposition(text: string, opts: ParseOptions = {}): Map<string, MetricFamily> {
  return new PageParser(text, opts.only, opts.labelCache).run();
}

class PageParser {
  private readonly out = new Map<string, MetricFamily>();
  /** Without a filter: every name a TYPE line declared (to recognise `X_created` twins). */
  private readonly declared = new Set<string>();
  private cur: Current | undefined;
  // The last HELP line, by position: nothing is sliced unless its family is parsed.
  private helpNameStart = 0;
  private helpNameEnd = 0;
  private helpStart = 0;
  private helpStop = 0;

  constructor(
    private readonly text: string,
    private readonly only: ReadonlySet<string> | undefined,
    private readonly cache: Map<string, Labels> | undefined,
  ) {}

  run(): Map<string, MetricFamily> {
    const text = this.text;
    const len = text.length;
    let pos = 0;
    while (pos < len) {
      const c = text.charCodeAt(pos);
      if (c !== HASH && this.cur && !this.cur.family) {
        // Samples of a family we skip: its group runs to the next comment line (one native scan).
        const next = text.indexOf('\n#', pos);
        if (next < 0) break;
        pos = next + 1;
        continue;
      }
      let end = text.indexOf('\n', pos);
      if (end < 0) end = len;
      const stop = end > pos && text.charCodeAt(end - 1) === CR ? end - 1 : end;
      if (c === HASH) this.comment(pos, stop);
      else if (stop > pos && !isBlank(c)) this.sample(pos, stop);
      pos = end + 1;
    }
    return this.out;
  }

  /** A `# HELP` or `# TYPE` line; other comments are ignored. */
  private comment(pos: number, stop: number): void {
    const text = this.text;
    let p = pos + 1;
    while (p < stop && isBlank(text.charCodeAt(p))) p++;
    const isType = matchAt(text, p, 'TYPE');
    if (!isType && !matchAt(text, p, 'HELP')) return;
    p += 4;
    if (p >= stop || !isBlank(text.charCodeAt(p))) return;
    while (p < stop && isBlank(text.charCodeAt(p))) p++;
    let q = p;
    while (q < stop && !isBlank(text.charCodeAt(q))) q++;
    if (q === p) return;
    const nameEnd = q;
    while (q < stop && isBlank(text.charCodeAt(q))) q++;
    if (!isType) {
      this.helpNameStart = p;
      this.helpNameEnd = nameEnd;
      this.helpStart = q;
      this.helpStop = stop;
      // HELP after its TYPE line (the format allows either order).
      const cur = this.cur;
      if (cur?.family && cur.wire.length === nameEnd - p && matchAt(text, p, cur.wire)) cur.family.help = unescapeText(text.slice(q, stop));
      return;
    }
    const type = typeAt(text, q, stop);
    const wire = text.slice(p, nameEnd);
    let name = familyName(wire, type);
    let skip: boolean;
    if (this.only) {
      const kept = canonical(this.only).get(name);
      skip = kept === undefined;
      if (kept !== undefined) name = kept;
    } else {
      this.declared.add(wire);
      this.declared.add(name);
      skip = type === 'gauge' && this.isCreatedTwin(wire);
    }
    if (skip) {
      this.cur = {wire, type};
      return;
    }
    let family = this.out.get(name);
    if (!family) {
      family = {name, type, samples: []};
      const hn = this.helpNameEnd - this.helpNameStart;
      if (hn === wire.length && matchAt(text, this.helpNameStart, wire)) family.help = unescapeText(text.slice(this.helpStart, this.helpStop));
      this.out.set(name, family);
    }
    this.cur = {wire, type, family, names: [wire, ...SUFFIXES[type].map((x) => wire + x)]};
  }

  /** prometheus_client's `X_created` gauge family, emitted beside a counter or histogram `X`. */
  private isCreatedTwin(wire: string): boolean {
    if (!wire.endsWith('_created')) return false;
    const base = wire.slice(0, -'_created'.length);
    return this.declared.has(base) || this.declared.has(`${base}_total`);
  }

  private sample(pos: number, stop: number): void {
    const text = this.text;
    let p = pos;
    while (p < stop) {
      const ch = text.charCodeAt(p);
      if (ch === LBRACE || isBlank(ch)) break;
      p++;
    }
    const cur = this.cur;
    let family: MetricFamily | undefined;
    let name = cur?.family ? ownName(text, pos, p, cur) : undefined;
    if (name !== undefined) {
      family = cur!.family;
      if (cur!.type !== 'gauge' && cur!.type !== 'untyped' && name.endsWith('_created')) return;
    } else {
      name = text.slice(pos, p);
      family = this.out.get(name);
      if (!family && ((this.only && !this.only.has(name)) || name.endsWith('_created'))) return;
    }
    let labels: Labels = NO_LABELS;
    if (p < stop && text.charCodeAt(p) === LBRACE) {
      const cache = this.cache;
      // The label set usually ends at the line's last '}' (values and timestamps hold none).
      const guess = cache ? text.lastIndexOf('}', stop - 1) + 1 : 0;
      const key = guess > p ? text.slice(p, guess) : undefined;
      const hit = key !== undefined ? cache!.get(key) : undefined;
      if (hit) {
        labels = hit;
        p = guess;
      } else {
        labels = {};
        p = readLabels(text, p + 1, stop, labels);
        if (p < 0) return;
        if (key !== undefined && p === guess) {
          if (cache!.size >= LABEL_CACHE_MAX) cache!.clear();
          cache!.set(key, labels);
        }
      }
    }
    while (p < stop && isBlank(text.charCodeAt(p))) p++;
    let q = p;
    while (q < stop && !isBlank(text.charCodeAt(q))) q++;
    if (q === p) return;
    const value = parseValue(text.slice(p, q));
    if (value === undefined) return;
    if (!family) {
      family = {name, type: 'untyped', samples: []};
      this.out.set(name, family);
    }
    family.samples.push({name, labels, value});
  }
}

/** Does `s` occur in `text` at `at`? (A charCodeAt loop: far cheaper than startsWith on sliced strings.) */
function matchAt(text: string, at: number, s: string): boolean {
  const n = s.length;
  if (at + n > text.length) return false;
  for (let i = 0; i < n; i++) if (text.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** The name text[pos, end) if it is one of the current family's sample names (no slicing), else undefined. */
function ownName(text: string, pos: number, end: number, cur: Current): string | undefined {
  const len = end - pos;
  const wire = cur.wire;
  if (len < wire.length || !matchAt(text, pos, wire)) return undefined;
  if (len === wire.length) return wire;
  const suffixes = SUFFIXES[cur.type];
  for (let i = 0; i < suffixes.length; i++) {
    const x = suffixes[i]!;
    if (x.length === len - wire.length && matchAt(text, pos + wire.length, x)) return cur.names![i + 1];
  }
  return undefined;
}

const TYPE_WORDS: readonly FamilyType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

/** The type word of a TYPE line (`unknown` and anything else: untyped). */
function typeAt(text: string, at: number, stop: number): FamilyType {
  for (const t of TYPE_WORDS) {
    const end = at + t.length;
    if (end <= stop && matchAt(text, at, t) && (end === stop || isBlank(text.charCodeAt(end)))) return t;
  }
  return 'untyped';
}

function familyName(wire: string, type: FamilyType): string {
  return type === 'counter' && !wire.endsWith('_total') ? `${wire}_total` : wire;
}

/** Undoes the escapes `\\`, `\"` and `\n` (label values and HELP text). */
function unescapeText(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let r = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      const n = s[++i];
      r += n === 'n' ? '\n' : n;
    } else r += ch;
  }
  return r;
}

/** Reads `name="value",…}` from just after `{`; returns the index after `}`, or -1 when malformed. */
function readLabels(text: string, p: number, stop: number, into: Labels): number {
  for (;;) {
    while (p < stop) {
      const ch = text.charCodeAt(p);
      if (ch !== SPACE && ch !== TAB && ch !== COMMA) break;
      p++;
    }
    if (p >= stop) return -1;
    if (text.charCodeAt(p) === RBRACE) return p + 1;
    const eq = text.indexOf('=', p);
    if (eq < 0 || eq >= stop) return -1;
    let ne = eq;
    while (ne > p && isBlank(text.charCodeAt(ne - 1))) ne--;
    const key = text.slice(p, ne);
    p = eq + 1;
    while (p < stop && text.charCodeAt(p) === SPACE) p++;
    if (text.charCodeAt(p) !== QUOTE) return -1;
    const start = p + 1;
    let close = text.indexOf('"', start);
    while (close >= 0 && close < stop && text.charCodeAt(close - 1) === BACKSLASH && oddBackslashes(text, close - 1, start)) {
      close = text.indexOf('"', close + 1);
    }
    if (close < 0 || close >= stop) return -1;
    const raw = text.slice(start, close);
    if (key !== '__proto__') into[key] = unescapeText(raw);
    p = close + 1;
  }
}

/** Is the run of backslashes ending at `at` (inclusive) odd, i.e. does it escape what follows? */
function oddBackslashes(text: string, at: number, floor: number): boolean {
  let n = 0;
  while (at >= floor && text.charCodeAt(at) === BACKSLASH) {
    n++;
    at--;
  }
  return n % 2 === 1;
}

function parseValue(tok: string): number | undefined {
  const c = tok.charCodeAt(tok.length - 1);
  // 'f' or 'F' ends +Inf/-Inf/Inf: Number() reads only "Infinity".
  if (c === 102 || c === 70) {
    const t = tok.toLowerCase();
    if (t === '+inf' || t === 'inf') return Number.POSITIVE_INFINITY;
    if (t === '-inf') return Number.NEGATIVE_INFINITY;
    return undefined;
  }
  const v = Number(tok);
  if (Number.isNaN(v) && tok !== 'NaN' && tok !== 'nan') return undefined;
  return v;
}
