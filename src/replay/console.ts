/** What `dynamo replay` prints: a line per finished router on stderr, then the setup and one table row per router. */
import {table} from '../shared/output.js';
import type {ReplayOutcome, ReplayRunResult} from './run.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
/** Milliseconds; from 10 s on in seconds, so long tails stay readable in a narrow column. */
const ms = (x: number) => (Number.isNaN(x) ? '-' : x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${x.toFixed(0)}`);

export const replayedLine = (r: ReplayRunResult): string => `replayed with ${r.router} in ${r.wallS.toFixed(2)} s`;

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

/** The trace, the simulated engines, which hashing ran, then the routers side by side. */
export function describeReplay(o: ReplayOutcome): string {
  const e = o.engine;
  const first = o.runs[0]!.report;
  return [
    `${o.trace}: ${o.requests} requests over ${first.durationS.toFixed(0)} s simulated${o.speedup !== 1 ? ` (arrivals ×${o.speedup})` : ''}`,
    `${o.workers} × mocker ${e.model} on ${e.gpu}: ${e.numGpuBlocks} KV blocks of ${e.blockSize} tokens (${(e.kvTokensPerWorker / 1000).toFixed(0)}k tokens) per worker, max ${e.maxNumSeqs} seqs, ${e.maxNumBatchedTokens} tokens/step`,
    `hashing and prefix index: ${o.native ? 'native module' : 'TypeScript (the native module is not built)'}`,
    '',
    table(o.runs.map(replayRow)),
  ].join('\n');
}
