/**
 * `dynamo bench` metrics from per-request timelines, named and defined as AIPerf and
 * `vllm bench serve` define them (benchmarks.md §3), so numbers compare across tools:
 * - TTFT: first non-empty content chunk − request start;
 * - TTST: second non-empty chunk − first;
 * - E2E latency: last chunk − request start;
 * - TPOT (= AIPerf "ITL", vLLM "TPOT"): (E2E − TTFT) / (output tokens − 1), one per request, only
 *   when there are at least 2 output tokens;
 * - chunk ITL (= vLLM "ITL", AIPerf "inter-chunk latency"): every gap between consecutive non-empty
 *   chunks, pooled over requests;
 * - duration: last response − first request start (AIPerf); throughputs divide by it;
 * - goodput: requests meeting every SLO / duration; a metric a request does not have (TPOT of a
 *   1-token output) fails its SLO, as in AIPerf.
 * Times are milliseconds on one monotonic clock. Failed requests count by error kind only.
 */
import {type Summary, summarize} from '../metrics/stats.js';

export interface Chunk {
  /** When the chunk arrived. */
  at: number;
  /** Output tokens in it; the metrics only ask whether it carries any (empty role/usage chunks do not). */
  tokens: number;
}

export interface RequestTimeline {
  start: number;
  /** Content-bearing chunks only is not required: empty ones (role, usage) are skipped here. */
  chunks: Chunk[];
  /** Output tokens: by re-tokenizing the returned text (AIPerf), or the server's usage (vLLM) when chosen. */
  outputTokens: number;
  /** The re-tokenized count when `outputTokens` came from usage (for the discrepancy). */
  retokenizedOutputTokens?: number;
  inputTokens: number;
  /** What the server's `usage` said, when it said. */
  usage?: {promptTokens: number; completionTokens: number};
  error?: {kind: string; message: string};
}

export interface RequestMetrics {
  ok: boolean;
  ttftMs?: number;
  ttstMs?: number;
  e2eMs?: number;
  tpotMs?: number;
  chunkGapsMs: number[];
  outputTokens: number;
  inputTokens: number;
}

export function requestMetrics(r: RequestTimeline): RequestMetrics {
  const chunks = r.chunks.filter((c) => c.tokens > 0);
  const base = {chunkGapsMs: [] as number[], outputTokens: r.outputTokens, inputTokens: r.inputTokens};
  if (r.error || !chunks.length) return {ok: false, ...base};
  const first = chunks[0]!.at;
  const last = chunks.at(-1)!.at;
  const ttftMs = first - r.start;
  const e2eMs = last - r.start;
  return {
    ok: true,
    ttftMs,
    ...(chunks.length > 1 ? {ttstMs: chunks[1]!.at - first} : {}),
    e2eMs,
    ...(r.outputTokens > 1 ? {tpotMs: (e2eMs - ttftMs) / (r.outputTokens - 1)} : {}),
    chunkGapsMs: chunks.slice(1).map((c, i) => c.at - chunks[i]!.at),
    outputTokens: r.outputTokens,
    inputTokens: r.inputTokens,
  };
}

/** An SLO: a metric must be at most (latencies) this many milliseconds. */
export interface Slo {
  metric: 'ttftMs' | 'ttstMs' | 'e2eMs' | 'tpotMs';
  maxMs: number;
}

export interface Aggregate {
  requests: number;
  completed: number;
  errors: Record<string, number>;
  durationMs: number;
  ttftMs: Summary;
  ttstMs: Summary;
  tpotMs: Summary;
  chunkItlMs: Summary;
  e2eMs: Summary;
  requestThroughput: number;
  outputTokenThroughput: number;
  totalTokenThroughput: number;
  /** Requests per second meeting every SLO (undefined without SLOs). */
  goodput?: number;
  /** Requests meeting every SLO (all completed ones without SLOs). */
  goodRequests: number;
  inputTokens: Summary;
  outputTokens: Summary;
  /** Per request 1000 / TPOT: what one user sees (AIPerf "output_token_throughput_per_user"). */
  outputTokensPerSPerUser: Summary;
  /** Re-tokenized output tokens against the server's usage, over requests that reported usage. */
  tokenCounts: {retokenized: number; usage: number; discrepancyPct: number};
}

export function aggregate(timelines: readonly RequestTimeline[], slos: readonly Slo[] = []): Aggregate {
  const per = timelines.map(requestMetrics);
  const ok = per.filter((m) => m.ok);
  const errors: Record<string, number> = {};
  for (const t of timelines) if (t.error) errors[t.error.kind] = (errors[t.error.kind] ?? 0) + 1;
  const noChunks = timelines.filter((t) => !t.error && !t.chunks.some((c) => c.tokens > 0)).length;
  if (noChunks) errors.empty_response = (errors.empty_response ?? 0) + noChunks;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const t of timelines) {
    first = Math.min(first, t.start);
    for (const c of t.chunks) last = Math.max(last, c.at);
  }
  const durationMs = Number.isFinite(first) && Number.isFinite(last) ? last - first : 0;
  const perS = (x: number) => (durationMs > 0 ? x / (durationMs / 1000) : 0);
  const values = (k: keyof Pick<RequestMetrics, 'ttftMs' | 'ttstMs' | 'e2eMs' | 'tpotMs'>) => ok.flatMap((m) => (m[k] === undefined ? [] : [m[k]!]));
  const outputTokens = ok.reduce((a, m) => a + m.outputTokens, 0);
  const inputTokens = ok.reduce((a, m) => a + m.inputTokens, 0);
  const withUsage = timelines.filter((t) => !t.error && t.usage);
  const retok = withUsage.reduce((a, t) => a + (t.retokenizedOutputTokens ?? t.outputTokens), 0);
  const usage = withUsage.reduce((a, t) => a + t.usage!.completionTokens, 0);
  const good = ok.filter((m) => slos.every((s) => m[s.metric] !== undefined && m[s.metric]! <= s.maxMs)).length;
  return {
    requests: timelines.length,
    completed: ok.length,
    errors,
    durationMs,
    ttftMs: summarize(values('ttftMs')),
    ttstMs: summarize(values('ttstMs')),
    tpotMs: summarize(values('tpotMs')),
    chunkItlMs: summarize(ok.flatMap((m) => m.chunkGapsMs)),
    e2eMs: summarize(values('e2eMs')),
    requestThroughput: perS(ok.length),
    outputTokenThroughput: perS(outputTokens),
    totalTokenThroughput: perS(inputTokens + outputTokens),
    ...(slos.length ? {goodput: perS(good)} : {}),
    goodRequests: good,
    inputTokens: summarize(ok.map((m) => m.inputTokens)),
    outputTokens: summarize(ok.map((m) => m.outputTokens)),
    outputTokensPerSPerUser: summarize(values('tpotMs').filter((x) => x > 0).map((x) => 1000 / x)),
    tokenCounts: {retokenized: retok, usage, discrepancyPct: usage ? (100 * (retok - usage)) / usage : 0},
  };
}
