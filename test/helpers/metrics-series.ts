/**
 * Time-advanced copies of a recorded /metrics page, for tests and benches of `dynamo top`: counters
 * and histogram buckets grown by given rates over given seconds, gauges set, or a restart (every
 * counter and histogram back to 0). Only the values change; names, labels and order stay as
 * recorded, so the parser sees what the real exporter would serve next. (Tests and scripts only.)
 */

export interface Advance {
  /** Seconds since the page given. */
  seconds: number;
  /**
   * Per-second growth of counters, by sample name, each series of it growing at that rate; or by
   * `name{text}` to grow only the series whose label text contains `text` (e.g.
   * `vllm:request_success_total{finished_reason="stop"}`).
   */
  rates?: Record<string, number>;
  /** Observations per second of histograms, by family name: `perS` observations of `value` each. */
  observe?: Record<string, {perS: number; value: number}[]>;
  /** Gauges set to these values, by name (every series of it). */
  gauges?: Record<string, number>;
  /** The process restarted before this advance: counters and histograms start again from 0. */
  restart?: boolean;
}

const SAMPLE = /^([^\s{#]+)(\{.*\})?\s+(\S+)(.*)$/;

function num(s: string): number {
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

function fmt(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(Number(v.toPrecision(15)));
}

function growth(a: Advance, name: string, labelText: string): number | undefined {
  let rate: number | undefined;
  for (const [key, r] of Object.entries(a.rates ?? {})) {
    const brace = key.indexOf('{');
    const keyName = brace < 0 ? key : key.slice(0, brace);
    const want = brace < 0 ? '' : key.slice(brace + 1, -1);
    if (keyName === name && labelText.includes(want)) rate = (rate ?? 0) + r;
  }
  return rate === undefined ? undefined : rate * a.seconds;
}

/** The page `seconds` later. */
export function advanceExposition(text: string, a: Advance): string {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)/gm)) types.set(m[1]!, m[2]!);
  const familyOf = (name: string): [string, string] | undefined => {
    if (types.has(name)) return [name, types.get(name)!];
    for (const suffix of ['_bucket', '_sum', '_count', '_total']) {
      const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
      if (base && types.has(base)) return [base, types.get(base)!];
    }
    return undefined;
  };
  return text
    .split('\n')
    .map((line) => {
      const m = SAMPLE.exec(line);
      if (!m) return line;
      const [, name, labelText = '', value, rest] = m as unknown as [string, string, string | undefined, string, string];
      const fam = familyOf(name);
      if (!fam || name.endsWith('_created')) return line;
      const [family, type] = fam;
      let v = num(value);
      if (type === 'gauge') {
        const g = a.gauges?.[name];
        return g === undefined ? line : `${name}${labelText} ${fmt(g)}${rest}`;
      }
      if (type === 'counter') {
        if (a.restart) v = 0;
        v += growth(a, name, labelText) ?? 0;
      } else if (type === 'histogram') {
        if (a.restart) v = 0;
        for (const o of a.observe?.[family] ?? []) {
          const n = o.perS * a.seconds;
          if (name.endsWith('_count')) v += n;
          else if (name.endsWith('_sum')) v += n * o.value;
          else if (name.endsWith('_bucket')) {
            const le = /le="([^"]*)"/.exec(labelText)?.[1];
            if (le !== undefined && o.value <= num(le)) v += n;
          }
        }
      } else return line;
      return `${name}${labelText} ${fmt(v)}${rest}`;
    })
    .join('\n');
}

/** Pages at each step, each advanced from the one before: a scrape series from one recording. */
export function metricsSeries(base: string, steps: readonly Advance[]): string[] {
  const out: string[] = [];
  let page = base;
  for (const s of steps) out.push((page = advanceExposition(page, s)));
  return out;
}
