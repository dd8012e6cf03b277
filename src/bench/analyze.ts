/**
 * From a run's raw records to its results: token counts (re-tokenized when a tokenizer is known,
 * else the server's usage), request timelines, the aggregate, schedule lag and SLO attainment.
 * Runs after the load is over, so counting tokens never disturbs the timing.
 */
import {type Summary, summarize} from '../metrics/stats.js';
import {promptText} from './client.js';
import type {RequestRecord, RunResult} from './load.js';
import {type Aggregate, type RequestMetrics, type RequestTimeline, type Slo, aggregate, requestMetrics} from './metrics.js';
import type {LoadPoint} from './profile.js';
import type {TokenCounter} from './tokens.js';

export interface AnalyzedRequest {
  record: RequestRecord;
  timeline: RequestTimeline;
  metrics: RequestMetrics;
}

export interface PointResult {
  point: LoadPoint;
  label: string;
  aggregate: Aggregate;
  scheduleLagMs: Summary;
  /** Requests meeting every SLO / requests sent (errors count as misses). */
  sloAttainment: number;
  meetsSla: boolean;
  wallMs: number;
  interrupted: boolean;
  requests: AnalyzedRequest[];
  /** Who counted tokens: a tokenizer's name, or "usage". */
  tokenCountSource: string;
}

async function timelineOf(r: RequestRecord, counter: TokenCounter | undefined, preferUsage: boolean): Promise<RequestTimeline> {
  const res = r.response;
  const usage = res.usage ? {promptTokens: res.usage.promptTokens, completionTokens: res.usage.completionTokens} : undefined;
  // Synthetic and trace prompts are one token per word, so the planned count of a first turn is exact.
  const countedInput = counter
    ? r.turn === 0 && r.plannedInputTokens !== undefined && r.messages.length === 1
      ? r.plannedInputTokens
      : await counter.count(promptText(r.messages))
    : undefined;
  const retokenized = counter ? await counter.count(res.text) : undefined;
  const fromUsage = usage?.completionTokens;
  const useUsage = (preferUsage || retokenized === undefined) && fromUsage !== undefined;
  return {
    start: res.start,
    chunks: res.chunks.map((c) => ({at: c.at, tokens: c.text ? 1 : 0})),
    inputTokens: (preferUsage ? (usage?.promptTokens ?? countedInput) : (countedInput ?? usage?.promptTokens)) ?? r.plannedInputTokens ?? 0,
    outputTokens: useUsage ? fromUsage : (retokenized ?? res.chunks.filter((c) => c.text).length),
    ...(useUsage && retokenized !== undefined ? {retokenizedOutputTokens: retokenized} : {}),
    ...(usage ? {usage} : {}),
    ...(res.error ? {error: res.error} : {}),
  };
}

export async function analyzeRun(
  point: LoadPoint,
  label: string,
  run: RunResult,
  slos: readonly Slo[],
  attainment: number,
  counter: TokenCounter | undefined,
  countTokens: 'tokenizer' | 'usage' = 'tokenizer',
): Promise<PointResult> {
  const requests: AnalyzedRequest[] = [];
  for (const record of run.records) {
    const timeline = await timelineOf(record, counter, countTokens === 'usage');
    requests.push({record, timeline, metrics: requestMetrics(timeline)});
  }
  const agg = aggregate(
    requests.map((r) => r.timeline),
    slos,
  );
  const sloAttainment = run.records.length ? agg.goodRequests / run.records.length : 0;
  return {
    point,
    label,
    aggregate: agg,
    scheduleLagMs: summarize(run.records.flatMap((r) => (r.lagMs === undefined ? [] : [r.lagMs]))),
    sloAttainment,
    meetsSla: run.records.length > 0 && !run.interrupted && sloAttainment >= attainment,
    wallMs: run.wallMs,
    interrupted: run.interrupted,
    requests,
    tokenCountSource: countTokens === 'usage' || !counter ? 'usage' : `${counter.name} tokenizer`,
  };
}

/** The load value a point is ranked by in a sweep. */
export const loadValue = (p: LoadPoint): number => (p.mode === 'rate' ? p.requestRate : p.mode === 'concurrency' ? p.concurrency : p.speedup);

/**
 * For a sweep: the highest load at which the SLA holds, and the point of highest goodput (or
 * request throughput without SLOs). `undefined` best when no point meets the SLA.
 */
export function recommend(points: readonly PointResult[]): {best?: PointResult; reason: string} {
  const passing = points.filter((p) => p.meetsSla);
  if (!points.length) return {reason: 'no runs'};
  if (!passing.length) {
    const top = points.reduce((a, b) => (b.sloAttainment > a.sloAttainment ? b : a));
    return {reason: `no load met the SLA; the closest was ${top.label} with ${(100 * top.sloAttainment).toFixed(1)} % of requests within every SLO`};
  }
  const best = passing.reduce((a, b) => (loadValue(b.point) > loadValue(a.point) ? b : a));
  return {best, reason: `${best.label} is the highest load meeting every SLO (${(100 * best.sloAttainment).toFixed(1)} % of requests within them)`};
}
