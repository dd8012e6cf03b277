/**
 * What `dynamo replay` prints: a line per finished run on stderr, then the setup and one table row
 * per run. Without --disagg or --goodput the table is one row per router, as it always was; with
 * them each row is a configuration (aggregated or a prefill/decode split) and router, with the KV
 * transfer and goodput columns, and a last line names the configuration the decision rule picks.
 */
import {table} from '../shared/output.js';
import type {ReplaySlos} from './report.js';
import {type ReplayOutcome, type ReplayRunResult, configLabel, configWorkers} from './run.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** Milliseconds; from 10 s on in seconds, so long tails stay readable in a narrow column. */
const ms = (x: number) => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${x.toFixed(0)}`);
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(bytes >= 1e11 ? 0 : 1)}`;

export const replayedLine = (r: ReplayRunResult): string =>
  r.config.kind === 'aggregated' ? `replayed with ${r.router} in ${r.wallS.toFixed(2)} s` : `replayed ${configLabel(r.config)} with ${r.router} in ${r.wallS.toFixed(2)} s`;

export function replayRow(r: ReplayRunResult): Record<string, string> {
  const p = r.report;
  return {
    router: r.router,
    'hit blocks': pct(p.hitRate.blocks),
    'hit tokens': pct(p.hitRate.tokens),
    'ttft p50/p90/p99 ms': `${ms(p.ttftMs.p50)} / ${ms(p.ttftMs.p90)} / ${ms(p.ttftMs.p99)}`,
    'ttft mean': ms(p.ttftMs.mean),
    'itl p50 ms': p.itlMs.p50.toFixed(1),
    'e2e p50 ms': ms(p.e2eMs.p50),
    'req/s': p.throughput.requestsPerS.toFixed(2),
    'out tok/s': p.throughput.outputTokensPerS.toFixed(0),
    'load max/mean': p.loadImbalance.toFixed(2),
    unfinished: String(p.unfinished),
    speed: `${r.speed.toFixed(0)}×`,
  };
}

/** A row of the comparison table: the configuration first, ITL with its tail, then transfers and goodput before the speed. */
export function comparisonRow(r: ReplayRunResult, o: Pick<ReplayOutcome, 'disagg' | 'goodput'>): Record<string, string> {
  const p = r.report;
  const x = p.transfer;
  const row: Record<string, string> = {workers: configLabel(r.config)};
  for (const [k, v] of Object.entries(replayRow(r))) {
    if (k === 'speed') break;
    if (k === 'itl p50 ms') row['itl p50/p99 ms'] = `${p.itlMs.p50.toFixed(1)} / ${p.itlMs.p99.toFixed(1)}`;
    else row[k] = v;
  }
  if (o.disagg) {
    row['kv moved GB'] = x ? gb(x.bytes) : '-';
    row['xfer mean ms'] = x && !Number.isNaN(x.meanMs) ? x.meanMs.toFixed(2) : '-';
    row['local prefill'] = x ? pct(x.localPrefills / Math.max(1, p.requests)) : '-';
  }
  if (p.goodput) {
    row['slo met'] = pct(p.goodput.fraction);
    row['goodput req/s'] = p.goodput.requestsPerS.toFixed(2);
  }
  row.speed = `${r.speed.toFixed(0)}×`;
  return row;
}

/** "ttft ≤ 500 ms, itl ≤ 50 ms". */
export function slosText(slos: ReplaySlos): string {
  const parts: string[] = [];
  if (slos.ttftMs !== undefined) parts.push(`ttft ≤ ${slos.ttftMs} ms`);
  if (slos.itlMs !== undefined) parts.push(`itl ≤ ${slos.itlMs} ms`);
  if (slos.e2eMs !== undefined) parts.push(`e2e ≤ ${slos.e2eMs} ms`);
  return parts.join(', ');
}

/** The decision line: which configuration meets the SLOs with the fewest workers, or the closest one. */
export function goodputVerdict(o: ReplayOutcome): string | undefined {
  const g = o.goodput;
  if (!g) return undefined;
  const rule = `goodput (${slosText(g.slos)} for ≥ ${pct(g.minFraction)} of requests)`;
  const c = g.chosen;
  if (c) {
    const r = o.runs.find((x) => x.router === c.router && configLabel(x.config) === c.label)!;
    const n = configWorkers(c.config);
    return `${rule}: ${c.label} with ${c.router} meets it with the fewest workers (${n} worker${n === 1 ? '' : 's'}, ${pct(r.report.goodput!.fraction)} of requests, ${r.report.goodput!.requestsPerS.toFixed(2)} req/s)`;
  }
  const closest = o.runs.reduce((a, b) => (b.report.goodput!.fraction > a.report.goodput!.fraction ? b : a));
  return `${rule}: no configuration meets it; closest: ${configLabel(closest.config)} with ${closest.router} (${pct(closest.report.goodput!.fraction)} of requests)`;
}

function disaggLine(o: ReplayOutcome): string | undefined {
  const d = o.disagg;
  if (!d) return undefined;
  const splits = d.splits.map((s) => `${s.prefill}P+${s.decode}D`).join(', ');
  return `disaggregated ${splits}: KV ${(d.kvBytesPerToken / 1024).toFixed(0)} KiB/token over ${d.linkGbps} GB/s + ${d.transferLatencyMs} ms per transfer; prompts with ≤ ${d.maxLocalPrefillTokens} uncached tokens prefill on the decode worker`;
}

/** The trace, the simulated engines, which hashing ran, then the runs side by side. */
export function describeReplay(o: ReplayOutcome): string {
  const e = o.engine;
  const first = o.runs[0]!.report;
  const comparing = o.disagg !== undefined || o.goodput !== undefined;
  const lines = [
    `${o.trace}: ${o.requests} requests over ${first.durationS.toFixed(0)} s simulated${o.speedup !== 1 ? ` (arrivals ×${o.speedup})` : ''}`,
    `${o.workers} × mocker ${e.model} on ${e.gpu}: ${e.numGpuBlocks} KV blocks of ${e.blockSize} tokens (${(e.kvTokensPerWorker / 1000).toFixed(0)}k tokens) per worker, max ${e.maxNumSeqs} seqs, ${e.maxNumBatchedTokens} tokens/step`,
  ];
  const split = disaggLine(o);
  if (split) lines.push(split);
  lines.push(`hashing and prefix index: ${o.native ? 'native module' : 'TypeScript (the native module is not built)'}`, '');
  lines.push(table(o.runs.map((r) => (comparing ? comparisonRow(r, o) : replayRow(r)))));
  const verdict = goodputVerdict(o);
  if (verdict) lines.push('', verdict);
  return lines.join('\n');
}
