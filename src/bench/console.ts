/** What `dynamo bench` prints: a progress line while a run goes, AIPerf-style tables after. */
import {table} from '../shared/output.js';
import type {Summary} from '../metrics/stats.js';
import {type PointResult, recommend} from './analyze.js';
import {type BenchProfile, slosOf} from './profile.js';
import type {PreparedBench} from './run.js';

const f = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function progressLine(label: string, p: {done: number; errors: number; planned?: number; elapsedMs: number; durationMs?: number}): string {
  const share = p.planned ? p.done / p.planned : p.durationMs ? Math.min(1, p.elapsedMs / p.durationMs) : 0;
  const width = 24;
  const filled = Math.round(share * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const of = p.planned ? `${p.done}/${p.planned}` : `${p.done}`;
  const rate = p.elapsedMs > 0 ? (1000 * p.done) / p.elapsedMs : 0;
  return `${label}  ${bar} ${of} requests · ${p.errors} errors · ${rate.toFixed(1)} req/s · ${(p.elapsedMs / 1000).toFixed(0)} s`;
}

/** The line before the runs start: what is loaded, with what, and who counts tokens. */
export function headerLine(b: PreparedBench): string {
  const runs = `${b.points.length} run${b.points.length > 1 ? 's' : ''}`;
  const tokens = b.tokenizer.counter ? `tokens counted by the ${b.tokenizer.counter.name} tokenizer` : 'tokens from usage (unknown tokenizer)';
  return `bench: ${b.targetLabel} · model ${b.target.model} · ${b.workload.kind} workload · ${runs} · ${tokens}`;
}

/** A finished run in one line (its progress line's last state). */
export function finishedLine(p: PointResult): string {
  const a = p.aggregate;
  return `${p.label}: ${a.completed}/${a.requests} ok · ${a.requestThroughput.toFixed(2)} req/s · TTFT p50 ${a.ttftMs.p50.toFixed(1)} ms${p.meetsSla ? ' · meets SLA' : ''}`;
}

export const resultsLine = (dir: string): string => `results: ${dir}/ (profile_export.json, profile_export.csv, profile_export.jsonl, report.html)`;

/** One run as AIPerf's console shows it: a row per metric, columns avg min max p99 p90 p50 std. */
function runTable(p: PointResult): string {
  const a = p.aggregate;
  const row = (metric: string, s: Summary, d = 2) => ({metric, avg: f(s.mean, d), min: f(s.min, d), max: f(s.max, d), p99: f(s.p99, d), p90: f(s.p90, d), p50: f(s.p50, d), std: f(s.std, d)});
  const rows = [
    row('Time to first token (ms)', a.ttftMs),
    row('Time to second token (ms)', a.ttstMs),
    row('Inter token latency = TPOT (ms)', a.tpotMs),
    row('Inter chunk latency = vLLM ITL (ms)', a.chunkItlMs),
    row('Request latency (ms)', a.e2eMs),
    row('Output tokens/s per user', a.outputTokensPerSPerUser),
    row('Input sequence length (tokens)', a.inputTokens, 0),
    row('Output sequence length (tokens)', a.outputTokens, 0),
    row('Schedule lag (ms)', p.scheduleLagMs, 3),
  ].filter((r) => r.avg !== '-');
  const errors = Object.entries(a.errors)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const lines = [
    `── ${p.label}${p.interrupted ? ' (stopped early)' : ''} ──`,
    table(rows),
    `Request throughput ${f(a.requestThroughput)} req/s · output ${f(a.outputTokenThroughput, 1)} tok/s · total ${f(a.totalTokenThroughput, 1)} tok/s · duration ${f(a.durationMs / 1000)} s`,
    `Requests ${a.requests}: ${a.completed} completed${errors ? `, errors: ${errors}` : ''}`,
  ];
  if (a.goodput !== undefined) lines.push(`Goodput ${f(a.goodput)} req/s · ${f(100 * p.sloAttainment, 1)} % of requests within every SLO${p.meetsSla ? ' (meets the SLA)' : ''}`);
  const tc = a.tokenCounts;
  if (tc.usage) lines.push(`Output tokens: ${tc.retokenized} re-tokenized, ${tc.usage} in usage; lengths from ${p.tokenCountSource} (${tc.discrepancyPct >= 0 ? '+' : ''}${f(tc.discrepancyPct)} %)`);
  return lines.join('\n');
}

/** Every run's table, then (for a sweep) one line per run side by side. */
export function consoleTable(points: readonly PointResult[]): string {
  const parts = points.map(runTable);
  if (points.length > 1) {
    parts.push(
      `── sweep ──\n${table(
        points.map((p) => ({
          load: p.label,
          'req/s': f(p.aggregate.requestThroughput),
          'out tok/s': f(p.aggregate.outputTokenThroughput, 0),
          'ttft p50/p99': `${f(p.aggregate.ttftMs.p50, 1)}/${f(p.aggregate.ttftMs.p99, 1)}`,
          'tpot p50/p99': `${f(p.aggregate.tpotMs.p50)}/${f(p.aggregate.tpotMs.p99)}`,
          goodput: p.aggregate.goodput === undefined ? '-' : f(p.aggregate.goodput),
          'within slo': `${f(100 * p.sloAttainment, 1)}%`,
          sla: p.meetsSla ? 'yes' : 'no',
        })),
      )}`,
    );
  }
  return parts.join('\n\n');
}

/** The console report: every table, then the recommendation when there is something to judge (a sweep or SLOs). */
export function benchSummary(points: readonly PointResult[], profile: BenchProfile): string {
  const lines = [consoleTable(points)];
  if (points.length > 1 || slosOf(profile).length) {
    const rec = recommend(points);
    lines.push(rec.best ? `\n★ Recommended: ${rec.reason}` : `\n✗ ${rec.reason}`);
  }
  return lines.join('\n');
}
