import {describe, expect, it} from 'vitest';
import {summarize} from '../metrics/stats.js';
import {describeReplay, replayedLine} from './console.js';
import type {ReplayReport} from './report.js';
import type {ReplayOutcome, ReplayRunResult} from './run.js';

const report = (over: Partial<ReplayReport> = {}): ReplayReport => ({
  requests: 400,
  completed: 398,
  unfinished: 2,
  durationS: 141.4,
  hitRate: {blocks: 0.1234, tokens: 0.1},
  ttftMs: summarize([120, 250, 12_345]),
  itlMs: summarize([10.26, 12]),
  e2eMs: summarize([]),
  throughput: {requestsPerS: 2.8149, outputTokensPerS: 512.4, inputTokensPerS: 9000},
  perWorker: [],
  loadImbalance: 1.234,
  steps: 1000,
  preemptions: 0,
  ...over,
});

const run = (router: ReplayRunResult['router'], over: Partial<ReplayReport> = {}): ReplayRunResult => ({router, report: report(over), wallS: 0.5, speed: 282.8});

const outcome = (over: Partial<ReplayOutcome> = {}): ReplayOutcome => ({
  trace: 'head400.jsonl',
  requests: 400,
  engine: {model: 'llama-3.1-8b', gpu: 'h100', blockSize: 64, numGpuBlocks: 2000, kvTokensPerWorker: 128_000, maxNumSeqs: 256, maxNumBatchedTokens: 8192},
  workers: 4,
  speedup: 1,
  native: false,
  prepareS: 0.1,
  runs: [run('kv'), run('round-robin', {hitRate: {blocks: 0.05, tokens: 0.04}, unfinished: 0})],
  ...over,
});

describe('replay console', () => {
  it('describes the trace and the engines, then one row per router', () => {
    const lines = describeReplay(outcome()).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'head400.jsonl: 400 requests over 141 s simulated',
      '4 × mocker llama-3.1-8b on h100: 2000 KV blocks of 64 tokens (128k tokens) per worker, max 256 seqs, 8192 tokens/step',
      'hashing and prefix index: TypeScript (the native module is not built)',
      '',
    ]);
    expect(lines[4]).toMatch(/^ROUTER\s+HIT BLOCKS\s+HIT TOKENS\s+TTFT P50\/P90\/P99 MS\s+TTFT MEAN\s+ITL P50 MS\s+E2E P50 MS\s+REQ\/S\s+OUT TOK\/S\s+LOAD MAX\/MEAN\s+UNFINISHED\s+SPEED$/);
    // Percentages to 0.1; ms whole, from 10 s on in seconds; nothing measured is "-".
    expect(lines[5]!.split(/\s{2,}/)).toEqual(['kv', '12.3%', '10.0%', '250 / 9926 / 12.1s', '4238', '11.1', '-', '2.81', '512', '1.23', '2', '283×']);
    expect(lines[6]!.split(/\s{2,}/).slice(0, 3)).toEqual(['round-robin', '5.0%', '4.0%']);
    expect(lines).toHaveLength(7);
  });

  it('names compressed arrivals and the native module when they apply', () => {
    const text = describeReplay(outcome({speedup: 2, native: true}));
    expect(text).toMatch(/^head400\.jsonl: 400 requests over 141 s simulated \(arrivals ×2\)\n/);
    expect(text).toContain('hashing and prefix index: native module\n');
  });

  it('reports each finished router in one line', () => {
    expect(replayedLine(run('approx'))).toBe('replayed with approx in 0.50 s');
  });
});
