/**
 * The samples of one source over the window: every series of the families `top` reads, kept in
 * rings (series.ts), fed one parsed scrape at a time. Pure: time comes with each scrape.
 *
 * Rules:
 * - A series is a family plus its labels (histograms: less `le`). Counters keep their values;
 *   histograms keep cumulative buckets and their `_sum`; gauges their values (read: the last).
 * - A series that appears on a later scrape started from zero since the scrape before (its
 *   exporter creates it on first use: the first error, the first abort): a zero point at that
 *   scrape is put in front, so its first increments count. On the first scrape nothing is known.
 * - Series not seen for a whole window are dropped; gauges are read only from the latest scrape.
 */
import type {Labels, MetricFamily} from './exposition.js';
import {type BucketPoint, type Point, Ring} from './series.js';

export interface CounterTrack {
  labels: Labels;
  ring: Ring<Point>;
}

export interface HistogramTrack {
  labels: Labels;
  ring: Ring<BucketPoint>;
}

interface FamilyTrack {
  type: MetricFamily['type'];
  counters: Map<string, CounterTrack>;
  histograms: Map<string, HistogramTrack>;
  /** Gauges: the latest scrape's series only. */
  gauges: {labels: Labels; value: number}[];
}

// Keyed by the label objects themselves: with the parser's label cache a source's label sets are
// the same objects scrape after scrape, so each key is built once.
const keyCache = new WeakMap<Labels, string>();
const keyWithoutLeCache = new WeakMap<Labels, string>();

/** A stable identity for a label set (order as the exporter writes it), optionally less `le`. */
function seriesKey(labels: Labels, withoutLe = false): string {
  const cache = withoutLe ? keyWithoutLeCache : keyCache;
  const hit = cache.get(labels);
  if (hit !== undefined) return hit;
  let k = '';
  for (const name in labels) if (!withoutLe || name !== 'le') k += `${name}\u0000${labels[name]}\u0001`;
  cache.set(labels, k);
  return k;
}

const leCache = new Map<string, number>();
function parseLe(le: string | undefined): number {
  if (le === undefined) return Number.NaN;
  let v = leCache.get(le);
  if (v === undefined) {
    v = le === '+Inf' || le === 'Inf' || le === '+inf' ? Number.POSITIVE_INFINITY : Number(le);
    if (leCache.size < 10_000) leCache.set(le, v);
  }
  return v;
}

function withoutLe(labels: Labels): Labels {
  const out: Labels = {};
  for (const k in labels) if (k !== 'le') out[k] = labels[k]!;
  return out;
}

interface Assembling {
  labels: Labels;
  les: number[];
  counts: number[];
  sum: number;
  count?: number;
}

/** Groups a histogram family's samples into one cumulative bucket set per series. */
function assembleHistograms(f: MetricFamily): Map<string, Assembling> {
  const out = new Map<string, Assembling>();
  const get = (key: string, labels: Labels, strip: boolean) => {
    let a = out.get(key);
    if (!a) out.set(key, (a = {labels: strip ? withoutLe(labels) : labels, les: [], counts: [], sum: 0}));
    return a;
  };
  for (const s of f.samples) {
    if (s.name.endsWith('_bucket')) {
      const le = parseLe(s.labels.le);
      if (Number.isNaN(le)) continue;
      const a = get(seriesKey(s.labels, true), s.labels, true);
      a.les.push(le);
      a.counts.push(s.value);
    } else if (s.name.endsWith('_sum')) get(seriesKey(s.labels), s.labels, false).sum = s.value;
    else if (s.name.endsWith('_count')) get(seriesKey(s.labels), s.labels, false).count = s.value;
  }
  for (const a of out.values()) {
    if (a.les.some((le, i) => i > 0 && le < a.les[i - 1]!)) {
      const order = a.les.map((_, i) => i).sort((x, y) => a.les[x]! - a.les[y]!);
      a.les = order.map((i) => a.les[i]!);
      a.counts = order.map((i) => a.counts[i]!);
    }
    if (a.les[a.les.length - 1] !== Number.POSITIVE_INFINITY && a.count !== undefined) {
      a.les.push(Number.POSITIVE_INFINITY);
      a.counts.push(a.count);
    }
  }
  return out;
}

export class SeriesBook {
  private readonly families = new Map<string, FamilyTrack>();
  private readonly scrapes = new Ring<{at: number; value: number}>();

  /** Records one successful scrape (families as parsed), then trims every series to the window. */
  ingest(at: number, parsed: Map<string, MetricFamily>, windowMs: number): void {
    const prev = this.scrapes.last?.at;
    this.scrapes.push({at, value: 0});
    for (const f of parsed.values()) {
      // Without a TYPE line, the name says: `_total` counts, anything else is a level.
      const type = f.type === 'untyped' ? (f.name.endsWith('_total') ? 'counter' : 'gauge') : f.type;
      if (type === 'summary') continue;
      let t = this.families.get(f.name);
      if (!t || t.type !== type) this.families.set(f.name, (t = {type, counters: new Map(), histograms: new Map(), gauges: []}));
      if (type === 'histogram') this.ingestHistogram(t, f, at, prev);
      else if (type === 'gauge') t.gauges = f.samples.map((s) => ({labels: s.labels, value: s.value}));
      else this.ingestCounter(t, f, at, prev);
    }
    for (const [name, t] of this.families) if (!parsed.has(name)) t.gauges = [];
    this.trim(at, windowMs);
  }

  private ingestCounter(t: FamilyTrack, f: MetricFamily, at: number, prev: number | undefined): void {
    for (const s of f.samples) {
      const key = seriesKey(s.labels);
      let c = t.counters.get(key);
      if (!c) {
        t.counters.set(key, (c = {labels: s.labels, ring: new Ring()}));
        if (prev !== undefined) c.ring.push({at: prev, value: 0});
      }
      c.ring.push({at, value: s.value});
    }
  }

  private ingestHistogram(t: FamilyTrack, f: MetricFamily, at: number, prev: number | undefined): void {
    for (const [key, a] of assembleHistograms(f)) {
      if (a.les.length === 0) continue;
      let h = t.histograms.get(key);
      if (!h) {
        t.histograms.set(key, (h = {labels: a.labels, ring: new Ring()}));
        if (prev !== undefined) h.ring.push({at: prev, les: a.les, counts: a.les.map(() => 0), sum: 0});
      }
      const last = h.ring.last;
      // Share the bounds array while the layout holds: layout checks become an identity test.
      const les = last && sameBounds(last.les, a.les) ? last.les : a.les;
      h.ring.push({at, les, counts: a.counts, sum: a.sum});
    }
  }

  /** Drops what fell out of the window, and series not seen for a whole window. */
  private trim(now: number, windowMs: number): void {
    this.scrapes.trim(now, windowMs);
    const cutoff = now - windowMs;
    for (const t of this.families.values()) {
      for (const [k, c] of t.counters) {
        c.ring.trim(now, windowMs);
        if (c.ring.last!.at < cutoff) t.counters.delete(k);
      }
      for (const [k, h] of t.histograms) {
        h.ring.trim(now, windowMs);
        if (h.ring.last!.at < cutoff) t.histograms.delete(k);
      }
    }
  }

  /** Starts a fresh window: every series keeps only its newest sample, as the base. */
  restart(): void {
    this.scrapes.restart();
    for (const t of this.families.values()) {
      for (const c of t.counters.values()) c.ring.restart();
      for (const h of t.histograms.values()) h.ring.restart();
    }
  }

  /** Families seen in the latest scrape (or since, for counters and histograms, within the window). */
  has(family: string): boolean {
    const t = this.families.get(family);
    return t !== undefined && (t.gauges.length > 0 || t.counters.size > 0 || t.histograms.size > 0);
  }

  /** Seconds between the oldest and newest scrape in the window (0 until two scrapes). */
  spanSeconds(): number {
    const p = this.scrapes.points;
    return p.length < 2 ? 0 : (p[p.length - 1]!.at - p[0]!.at) / 1000;
  }

  gauges(family: string): readonly {labels: Labels; value: number}[] {
    return this.families.get(family)?.gauges ?? [];
  }

  /** Counter series of a counter family, or the `_sum` of each series of a histogram family. */
  counters(family: string): {labels: Labels; points: readonly Point[]}[] {
    const t = this.families.get(family);
    if (!t) return [];
    if (t.type === 'histogram') return [...t.histograms.values()].map((h) => ({labels: h.labels, points: h.ring.points.map((p) => ({at: p.at, value: p.sum}))}));
    return [...t.counters.values()].map((c) => ({labels: c.labels, points: c.ring.points}));
  }

  histograms(family: string): readonly HistogramTrack[] {
    const t = this.families.get(family);
    return t ? [...t.histograms.values()] : [];
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
