/**
 * Cluster totals from the figures of the sources that answered. Pure.
 *
 * Rules:
 * - With a frontend up, requests, tokens, in flight, queued, latency, errors and rejections are the
 *   frontend's (summed over frontends): what clients saw. Without one (URLs of bare engines, or the
 *   frontend down), they are the workers' sums, and latency percentiles come from the workers'
 *   bucket increases merged (never an average of percentiles).
 * - Hit rate, router: cached / prompt tokens routed over the window. Workers: hits / queries summed
 *   over workers that count them (vLLM); otherwise the mean of their hit-rate gauges (SGLang).
 * - Disaggregation (KV moved prefill → decode): the workers' transfer rates and queues summed, shown
 *   only when some worker exports them.
 * - A total of nothing known is undefined.
 */
import type {SourceFigures} from './figures.js';
import {type BucketDelta, histogramQuantile, mergeBuckets} from './series.js';
import type {ClusterTotals, Percentiles, TopSnapshot} from './snapshot.js';

export interface TotalsInput {
  frontend: boolean;
  figures: SourceFigures;
}

function sum(values: (number | undefined)[]): number | undefined {
  let total: number | undefined;
  for (const v of values) if (v !== undefined && !Number.isNaN(v)) total = (total ?? 0) + v;
  return total;
}

/** p50/p90/p99 in milliseconds of window observations in seconds; undefined when none. */
export function percentilesMs(delta: BucketDelta | undefined): Percentiles | undefined {
  if (!delta) return undefined;
  const q = (x: number) => {
    const v = histogramQuantile(x, delta.les, delta.counts);
    return v === undefined ? undefined : v * 1000;
  };
  const p = {p50: q(0.5), p90: q(0.9), p99: q(0.99)};
  return p.p50 === undefined ? undefined : p;
}

function merged(list: SourceFigures[], pick: (f: SourceFigures) => BucketDelta | undefined): Percentiles | undefined {
  return percentilesMs(mergeBuckets(list.flatMap((f) => pick(f) ?? [])));
}

function workersHitRate(workers: SourceFigures[]): number | undefined {
  const counted = workers.filter((f) => f.hitCounts);
  if (counted.length) {
    const total = sum(counted.map((f) => f.hitCounts!.total))!;
    return total > 0 ? sum(counted.map((f) => f.hitCounts!.hits))! / total : undefined;
  }
  const gauges = workers.map((f) => f.hitRate).filter((v): v is number => v !== undefined);
  return gauges.length ? gauges.reduce((a, v) => a + v, 0) / gauges.length : undefined;
}

export function clusterTotals(up: TotalsInput[]): {totals: ClusterTotals; routerQueue?: number; disagg?: TopSnapshot['disagg']} {
  const frontends = up.filter((s) => s.frontend).map((s) => s.figures);
  const workers = up.filter((s) => !s.frontend).map((s) => s.figures);
  const base = frontends.length ? frontends : workers;
  const routerCounted = frontends.filter((f) => f.hitCounts);
  const routerTotal = sum(routerCounted.map((f) => f.hitCounts!.total));
  const totals: ClusterTotals = {
    requestsPerS: sum(base.map((f) => f.requestsPerS)),
    inputTokensPerS: sum(base.map((f) => f.inputTokensPerS)),
    outputTokensPerS: sum(base.map((f) => f.outputTokensPerS)),
    inFlight: sum(base.map((f) => f.running)),
    queued: sum(base.map((f) => f.waiting)),
    ttftMs: merged(base, (f) => f.ttft),
    itlMs: merged(base, (f) => f.itl),
    hitRate: {
      router: routerTotal ? sum(routerCounted.map((f) => f.hitCounts!.hits))! / routerTotal : undefined,
      workers: workersHitRate(workers),
    },
    errorsPerS: sum(frontends.map((f) => f.errorsPerS)),
    rejectedPerS: sum(frontends.map((f) => f.rejectedPerS)),
  };
  const transferTokensPerS = sum(workers.map((f) => f.transferTokensPerS));
  const transferQueue = sum(workers.map((f) => f.transferQueue));
  const disagg = transferTokensPerS === undefined && transferQueue === undefined ? undefined : {transferTokensPerS, transferQueue};
  return {totals, routerQueue: sum(frontends.map((f) => f.routerQueue)), disagg};
}
