/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
 * with labels. Enough for the names vLLM and Dynamo export, without a dependency.
 */
type Labels = Record<string, string | number>;

const NEEDS_ESCAPE = /[\\"\n]/;
const escapeValue = (v: string) => (NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v);

/** The series key (its exposition text): labels sorted by name, values escaped. Called on every observation: kept lean. */
function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length > 1) keys.sort();
  let out = '';
  for (const k of keys) out += `${out ? ',' : ''}${k}="${escapeValue(String(labels[k]))}"`;
  return out;
}

const fmt = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN');

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  abstract samples(): string[];
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`, ...this.samples()].join('\n');
  }
}

/** One series of a counter or gauge, its key made once: what a hot path keeps instead of labels. */
export interface ScalarSeries {
  inc(by?: number): void;
  dec(by?: number): void;
  set(v: number): void;
}

/** A labelled number per series: the shared body of counters and gauges. */
abstract class Scalar extends Metric {
  protected readonly values = new Map<string, number>();
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** The series of `labels`, bound: no label key is built per observation. */
  bind(labels: Labels = {}): ScalarSeries {
    const k = labelKey(labels);
    const values = this.values;
    return {
      inc: (by = 1) => void values.set(k, (values.get(k) ?? 0) + by),
      dec: (by = 1) => void values.set(k, (values.get(k) ?? 0) - by),
      set: (v) => void values.set(k, v),
    };
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  samples(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ''} ${fmt(v)}`);
  }
}

export class Counter extends Scalar {
  readonly type = 'counter';
}

export class Gauge extends Scalar {
  readonly type = 'gauge';
  set(labels: Labels, v: number): void {
    this.values.set(labelKey(labels), v);
  }
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
}

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly series = new Map<string, {counts: number[]; sum: number; count: number}>();
  constructor(
    name: string,
    help: string,
    readonly buckets: number[],
  ) {
    super(name, help);
  }
  observe(labels: Labels, v: number): void {
    this.observeAt(labelKey(labels), v);
  }
  /** The series of `labels`, bound (it appears in the exposition once observed). */
  bind(labels: Labels = {}): {observe(v: number): void} {
    const k = labelKey(labels);
    return {observe: (v) => this.observeAt(k, v)};
  }
  private observeAt(k: string, v: number): void {
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = {counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0}));
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }
  snapshot(labels: Labels = {}): {count: number; sum: number} {
    const s = this.series.get(labelKey(labels));
    return {count: s?.count ?? 0, sum: s?.sum ?? 0};
  }
  samples(): string[] {
    const out: string[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? ',' : '';
      for (let i = 0; i < this.buckets.length; i++) out.push(`${this.name}_bucket{${k}${sep}le="${fmt(this.buckets[i]!)}"} ${s.counts[i]}`);
      out.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      out.push(`${this.name}_sum${k ? `{${k}}` : ''} ${fmt(s.sum)}`);
      out.push(`${this.name}_count${k ? `{${k}}` : ''} ${s.count}`);
    }
    return out;
  }
}

/** Log-spaced buckets rounded to 2 significant figures (Dynamo's scheme). */
export function logBuckets(min: number, max: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = min * (max / min) ** (i / (count - 1));
    out.push(Number(v.toPrecision(2)));
  }
  return [...new Set(out)];
}

export class Registry {
  private readonly metrics: Metric[] = [];
  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  private add<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  render(): string {
    return `${this.metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
