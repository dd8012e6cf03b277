/**
 * One source's figures over the window, read from its series (series-book.ts) by its dialect's
 * recipe (families.ts). Pure.
 *
 * Rules:
 * - The first reading of a figure whose families the source exposes is used; none: undefined.
 * - A rate is the increase of every matching series (each handling its own restarts) over the
 *   seconds the window's scrapes span: a series born mid-window counts what it did over the same
 *   window as the others. No matching series (no errors yet) reads 0; fewer than two scrapes in
 *   the window: undefined.
 * - Quantile readings keep the window's bucket increases (merged over series) so the cluster
 *   totals can merge them again across sources; ratio readings keep both increases for the same
 *   reason. An empty window (no observations, no queries) is undefined, not 0.
 */
import {type Dialect, type Figure, RECIPES, type Reading, readingFamilies} from './families.js';
import type {SeriesBook} from './series-book.js';
import {type BucketDelta, bucketIncrease, counterIncrease, mergeBuckets} from './series.js';

export interface SourceFigures {
  running?: number;
  waiting?: number;
  kvUsage?: number;
  hitRate?: number;
  /** The increases behind a ratio hit rate, for merging across sources. */
  hitCounts?: {hits: number; total: number};
  requestsPerS?: number;
  inputTokensPerS?: number;
  outputTokensPerS?: number;
  /** Window observations, seconds. */
  ttft?: BucketDelta;
  itl?: BucketDelta;
  errorsPerS?: number;
  rejectedPerS?: number;
  routerQueue?: number;
  transferTokensPerS?: number;
  transferQueue?: number;
}

type Value = {number?: number; delta?: BucketDelta; counts?: {hits: number; total: number}};

function choose(book: SeriesBook, readings: readonly Reading[] | undefined): Reading | undefined {
  return readings?.find((r) => readingFamilies(r).every((f) => book.has(f)));
}

function readGauge(book: SeriesBook, r: Extract<Reading, {gauge: string}>): number | undefined {
  let series = book.gauges(r.gauge);
  if (r.where) series = series.filter((s) => r.where!(s.labels));
  const breakdown = r.breakdown;
  if (breakdown && series.some((s) => s.labels[breakdown] === undefined)) series = series.filter((s) => s.labels[breakdown] === undefined);
  const values = series.map((s) => s.value).filter((v) => !Number.isNaN(v));
  if (values.length === 0) return undefined;
  const sum = values.reduce((a, v) => a + v, 0);
  return r.combine === 'sum' ? sum : sum / values.length;
}

function readRate(book: SeriesBook, family: string, where?: (l: Record<string, string>) => boolean): number | undefined {
  const span = book.spanSeconds();
  if (span <= 0) return undefined;
  let total = 0;
  for (const s of book.counters(family)) if (!where || where(s.labels)) total += counterIncrease(s.points);
  return total / span;
}

function increase(book: SeriesBook, family: string): number | undefined {
  let total: number | undefined;
  for (const s of book.counters(family)) if (s.points.length >= 2) total = (total ?? 0) + counterIncrease(s.points);
  return total;
}

function read(book: SeriesBook, r: Reading): Value {
  if ('gauge' in r) return {number: readGauge(book, r)};
  if ('rate' in r) return {number: readRate(book, r.rate, r.where)};
  if ('quantiles' in r) {
    const deltas = book.histograms(r.quantiles).flatMap((h) => bucketIncrease(h.ring.points) ?? []);
    const delta = mergeBuckets(deltas);
    return delta && delta.counts[delta.counts.length - 1]! > 0 ? {delta} : {};
  }
  const hits = increase(book, r.ratio[0]);
  const total = increase(book, r.ratio[1]);
  if (hits === undefined || total === undefined) return {};
  return {number: total > 0 ? Math.min(1, hits / total) : undefined, counts: {hits, total}};
}

/** The figures of a source that answered, by its dialect. */
export function computeFigures(book: SeriesBook, dialect: Dialect): SourceFigures {
  const recipe = RECIPES[dialect];
  const get = (figure: Figure): Value => {
    const r = choose(book, recipe[figure]);
    return r ? read(book, r) : {};
  };
  const hit = get('hitRate');
  return {
    running: get('running').number,
    waiting: get('waiting').number,
    kvUsage: get('kvUsage').number,
    hitRate: hit.number,
    hitCounts: hit.counts,
    requestsPerS: get('requests').number,
    inputTokensPerS: get('inputTokens').number,
    outputTokensPerS: get('outputTokens').number,
    ttft: get('ttft').delta,
    itl: get('itl').delta,
    errorsPerS: get('errors').number,
    rejectedPerS: get('rejected').number,
    routerQueue: get('routerQueue').number,
    transferTokensPerS: get('transferTokens').number,
    transferQueue: get('transferQueue').number,
  };
}
