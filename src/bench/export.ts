/**
 * Bench results as files, with AIPerf's metric names and units so they can be read side by side:
 * profile_export.json (aggregate per run + recommendation + the profile), profile_export.csv (a
 * row per run and metric), profile_export.jsonl (a record per request).
 */
import type {Summary} from '../metrics/stats.js';
import type {PointResult} from './analyze.js';
import {recommend} from './analyze.js';
import type {BenchProfile} from './profile.js';

interface Stat {
  unit: string;
  avg: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  std: number | null;
  count: number;
}

const num = (x: number) => (Number.isFinite(x) ? x : null);
const stat = (unit: string, s: Summary): Stat => ({
  unit,
  avg: num(s.mean),
  min: num(s.min),
  max: num(s.max),
  p50: num(s.p50),
  p90: num(s.p90),
  p95: num(s.p95),
  p99: num(s.p99),
  std: num(s.std),
  count: s.count,
});
const scalar = (unit: string, v: number | undefined) => ({unit, avg: v === undefined ? null : num(v)});

/** One run's metrics under AIPerf's names (inter_token_latency = TPOT; inter_chunk_latency = vLLM's ITL). */
export function runRecord(p: PointResult) {
  const a = p.aggregate;
  return {
    load: p.point,
    label: p.label,
    time_to_first_token: stat('ms', a.ttftMs),
    time_to_second_token: stat('ms', a.ttstMs),
    inter_token_latency: stat('ms', a.tpotMs),
    inter_chunk_latency: stat('ms', a.chunkItlMs),
    request_latency: stat('ms', a.e2eMs),
    output_token_throughput_per_user: stat('tokens/sec/user', a.outputTokensPerSPerUser),
    input_sequence_length: stat('tokens', a.inputTokens),
    output_sequence_length: stat('tokens', a.outputTokens),
    schedule_lag: stat('ms', p.scheduleLagMs),
    request_throughput: scalar('requests/sec', a.requestThroughput),
    output_token_throughput: scalar('tokens/sec', a.outputTokenThroughput),
    total_token_throughput: scalar('tokens/sec', a.totalTokenThroughput),
    goodput: scalar('requests/sec', a.goodput),
    request_count: scalar('requests', a.completed),
    error_request_count: scalar('requests', a.requests - a.completed),
    benchmark_duration: scalar('sec', a.durationMs / 1000),
    slo_attainment: scalar('ratio', p.sloAttainment),
    meets_sla: p.meetsSla,
    error_summary: Object.entries(a.errors).map(([kind, count]) => ({kind, count})),
    token_counts: {
      source: p.tokenCountSource,
      output_retokenized: a.tokenCounts.retokenized,
      output_usage: a.tokenCounts.usage,
      discrepancy_pct: a.tokenCounts.discrepancyPct,
    },
    was_cancelled: p.interrupted,
  };
}

export function benchExport(points: readonly PointResult[], profile: BenchProfile, target: {url: string; model: string}) {
  const rec = recommend(points);
  return {
    schema: 'dynamo-bench/1',
    target,
    runs: points.map(runRecord),
    recommendation: {label: rec.best?.label ?? null, load: rec.best?.point ?? null, reason: rec.reason},
    input_config: profile,
  };
}
export type BenchExport = ReturnType<typeof benchExport>;

const CSV_METRICS = [
  'time_to_first_token',
  'time_to_second_token',
  'inter_token_latency',
  'inter_chunk_latency',
  'request_latency',
  'output_token_throughput_per_user',
  'input_sequence_length',
  'output_sequence_length',
  'schedule_lag',
] as const;
const CSV_SCALARS = ['request_throughput', 'output_token_throughput', 'total_token_throughput', 'goodput', 'request_count', 'error_request_count', 'benchmark_duration', 'slo_attainment'] as const;

const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'number' ? String(Number(v.toPrecision(10))) : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export function toCsv(e: BenchExport): string {
  const cols = ['run', 'metric', 'unit', 'avg', 'min', 'max', 'p50', 'p90', 'p95', 'p99', 'std', 'count'];
  const rows = [cols.join(',')];
  for (const r of e.runs) {
    for (const m of CSV_METRICS) {
      const s = r[m];
      rows.push([r.label, m, s.unit, s.avg, s.min, s.max, s.p50, s.p90, s.p95, s.p99, s.std, s.count].map(cell).join(','));
    }
    for (const m of CSV_SCALARS) rows.push([r.label, m, r[m].unit, r[m].avg].map(cell).join(','));
  }
  return `${rows.join('\n')}\n`;
}

/** One JSON line per request: where it sat in the run, its timings, token counts and error. */
export function* requestLines(points: readonly PointResult[]): Generator<string> {
  for (const p of points) {
    for (const {record: r, timeline: t, metrics: m} of p.requests) {
      yield JSON.stringify({
        run: p.label,
        session: r.session,
        turn: r.turn,
        scheduled_ms: r.scheduledMs ?? null,
        schedule_lag_ms: r.lagMs ?? null,
        start_ms: t.start,
        time_to_first_token: m.ttftMs ?? null,
        time_to_second_token: m.ttstMs ?? null,
        inter_token_latency: m.tpotMs ?? null,
        request_latency: m.e2eMs ?? null,
        input_sequence_length: t.inputTokens,
        output_sequence_length: t.outputTokens,
        max_tokens: r.maxTokens,
        usage: r.response.usage ?? null,
        chunk_ms: r.response.chunks.filter((c) => c.text).map((c) => Number((c.at - t.start).toFixed(3))),
        status: r.response.status ?? null,
        error: r.response.error ?? null,
      });
    }
  }
}
