/**
 * Windowed figures over scraped samples: pure, with time passed in (epoch ms).
 *
 * Rules:
 * - A series keeps its samples in a ring trimmed to the window, plus the last sample at or before
 *   the window's start, so a window of W seconds is measured over W seconds and not less.
 * - Counter increase over the window sums the steps between consecutive samples; a value lower than
 *   the one before means the process restarted and counted again from 0, so that step adds the new
 *   value (never a negative step). Rate = increase / seconds between the first and last sample kept;
 *   fewer than two samples: no rate (undefined, shown as "–", never 0).
 * - Histograms are kept as cumulative bucket counts (`le` ascending, the last `+Inf`); the window's
 *   observations are the per-bucket increases, with a restart (the count, or any bucket, going
 *   down, or the bucket layout changing) handled as for counters.
 * - Quantiles follow Prometheus's `histogram_quantile`: find the bucket holding rank q·count, and
 *   interpolate linearly inside it (from 0 for the first bucket when its bound is positive); a rank
 *   in the `+Inf` bucket answers the highest finite bound. No observations: no quantile.
 * - Gauges: the last value.
 */

export interface Point {
  at: number;
  value: number;
}

export interface BucketPoint {
  at: number;
  /** Upper bounds, ascending, the last one +Inf. Shared between points while the layout holds. */
  les: readonly number[];
  /** Cumulative counts, one per bound. */
  counts: readonly number[];
  sum: number;
}

/** Observations in a window: per-bucket (cumulative) counts and the sum of the observed values. */
export interface BucketDelta {
  les: readonly number[];
  counts: number[];
  sum: number;
}

/** Samples of one series, oldest first, trimmed to a window. */
export class Ring<T extends {at: number}> {
  private items: T[] = [];

  push(p: T): void {
    const last = this.items[this.items.length - 1];
    if (last && p.at <= last.at) {
      // Same or earlier time (a clock step back): the newest reading replaces what it overlaps.
      while (this.items.length && this.items[this.items.length - 1]!.at >= p.at) this.items.pop();
    }
    this.items.push(p);
  }

  /** Drops samples older than the window, keeping the last one at or before its start. */
  trim(now: number, windowMs: number): void {
    const start = now - windowMs;
    let drop = 0;
    while (drop + 1 < this.items.length && this.items[drop + 1]!.at <= start) drop++;
    if (drop) this.items.splice(0, drop);
  }

  /** Keeps only the newest sample: the base of a fresh window. */
  restart(): void {
    if (this.items.length > 1) this.items.splice(0, this.items.length - 1);
  }

  get points(): readonly T[] {
    return this.items;
  }

  get last(): T | undefined {
    return this.items[this.items.length - 1];
  }

  get size(): number {
    return this.items.length;
  }
}

/** Increase of a counter across its points, a drop counted as a restart from 0. */
export function counterIncrease(points: readonly Point[]): number {
  let inc = 0;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1]!.value;
    const v = points[i]!.value;
    inc += v >= prev ? v - prev : v;
  }
  return inc;
}

/** Seconds between the first and last point; 0 with fewer than two. */
export function spanSeconds(points: readonly {at: number}[]): number {
  return points.length < 2 ? 0 : (points[points.length - 1]!.at - points[0]!.at) / 1000;
}

/** Per-second rate over the points; undefined with fewer than two or no time between them. */
export function counterRate(points: readonly Point[]): number | undefined {
  const s = spanSeconds(points);
  return s > 0 ? counterIncrease(points) / s : undefined;
}

function sameLayout(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isReset(prev: BucketPoint, cur: BucketPoint): boolean {
  if (!sameLayout(prev.les, cur.les)) return true;
  for (let i = 0; i < cur.counts.length; i++) if (cur.counts[i]! < prev.counts[i]!) return true;
  return false;
}

/** Observations across a histogram's points (per-bucket increases, restarts handled); undefined with fewer than two. */
export function bucketIncrease(points: readonly BucketPoint[]): BucketDelta | undefined {
  if (points.length < 2) return undefined;
  const newest = points[points.length - 1]!;
  const counts = new Array<number>(newest.les.length).fill(0);
  let sum = 0;
  for (let i = 1; i < points.length; i++) {
    const prev = points[i - 1]!;
    const cur = points[i]!;
    if (!sameLayout(cur.les, newest.les)) continue; // an older layout: not comparable with the newest
    if (isReset(prev, cur)) {
      // Restarted (or the layout changed here): all it holds now was observed since.
      for (let b = 0; b < counts.length; b++) counts[b]! += cur.counts[b]!;
      sum += cur.sum;
      continue;
    }
    for (let b = 0; b < counts.length; b++) counts[b]! += cur.counts[b]! - prev.counts[b]!;
    sum += cur.sum >= prev.sum ? cur.sum - prev.sum : 0;
  }
  return {les: newest.les, counts, sum};
}

/**
 * Adds histograms' windowed observations together. Identical layouts add bucket by bucket; a
 * different layout is read at the union of bounds as its cumulative count at the highest own
 * bound not above each (a step function: exact at shared bounds, never more than it observed).
 */
export function mergeBuckets(deltas: readonly BucketDelta[]): BucketDelta | undefined {
  const list = deltas.filter((d) => d.counts.length > 0);
  if (list.length === 0) return undefined;
  const first = list[0]!;
  if (list.every((d) => sameLayout(d.les, first.les))) {
    const counts = first.counts.slice();
    let sum = first.sum;
    for (let k = 1; k < list.length; k++) {
      const d = list[k]!;
      for (let b = 0; b < counts.length; b++) counts[b]! += d.counts[b]!;
      sum += d.sum;
    }
    return {les: first.les, counts, sum};
  }
  const les = [...new Set(list.flatMap((d) => d.les))].sort((a, b) => a - b);
  const counts = new Array<number>(les.length).fill(0);
  let sum = 0;
  for (const d of list) {
    let j = -1;
    for (let b = 0; b < les.length; b++) {
      while (j + 1 < d.les.length && d.les[j + 1]! <= les[b]!) j++;
      counts[b]! += j >= 0 ? d.counts[j]! : 0;
    }
    sum += d.sum;
  }
  return {les, counts, sum};
}

/** Prometheus's histogram_quantile over cumulative buckets; undefined when nothing was observed. */
export function histogramQuantile(q: number, les: readonly number[], counts: readonly number[]): number | undefined {
  const n = les.length;
  if (n < 2 || les[n - 1] !== Number.POSITIVE_INFINITY) return undefined;
  // Cumulative counts must not decrease (they can, between bucket reads of a live process).
  const c = counts.slice();
  for (let i = 1; i < n; i++) if (c[i]! < c[i - 1]!) c[i] = c[i - 1]!;
  const total = c[n - 1]!;
  if (!(total > 0)) return undefined;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  let rank = q * total;
  let b = 0;
  while (b < n - 1 && c[b]! < rank) b++;
  if (b === n - 1) return les[n - 2]!;
  if (b === 0 && les[0]! <= 0) return les[0]!;
  const start = b === 0 ? 0 : les[b - 1]!;
  const end = les[b]!;
  const below = b === 0 ? 0 : c[b - 1]!;
  const inBucket = c[b]! - below;
  rank -= below;
  return start + (end - start) * (rank / inBucket);
}
