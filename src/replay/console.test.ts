import {describe, expect, it} from 'vitest';
import {summarize} from '../metrics/stats.js';
import {comparisonRow, describeReplay, goodputVerdict, replayedLine} from './console.js';
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

const run = (router: ReplayRunResult['router'], over: Partial<ReplayReport> = {}): ReplayRunResult => ({router, config: {kind: 'aggregated', workers: 4}, report: report(over), wallS: 0.5, speed: 282.8});

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

  it('with --disagg and --goodput: a row per configuration, transfer and goodput columns, and the verdict', () => {
    const goodput = (fraction: number, requestsPerS: number) => ({met: Math.round(fraction * 400), fraction, requestsPerS});
    const transfer = {transfers: 300, localPrefills: 100, bytes: 1.5e12, tokens: 11_444_091, skippedTokens: 1000, meanMs: 4.123, meanWaitMs: 0.5};
    const o = outcome({
      runs: [
        {...run('kv', {goodput: goodput(0.931, 6.3)}), config: {kind: 'aggregated', workers: 8}},
        {...run('kv', {goodput: goodput(0.6, 4.1), transfer}), config: {kind: 'disaggregated', prefill: 2, decode: 6}},
        {...run('kv', {goodput: goodput(0.95, 6.5), transfer}), config: {kind: 'disaggregated', prefill: 3, decode: 4}},
      ],
      disagg: {splits: [{prefill: 2, decode: 6}, {prefill: 3, decode: 4}], linkGbps: 450, transferLatencyMs: 0.05, maxLocalPrefillTokens: 1000, kvBytesPerToken: 131_072},
      goodput: {slos: {ttftMs: 1000, itlMs: 50}, minFraction: 0.9, chosen: {config: {kind: 'disaggregated', prefill: 3, decode: 4}, router: 'kv', label: '3P+4D'}},
    });
    const lines = describeReplay(o).split('\n');
    expect(lines[2]).toBe('disaggregated 2P+6D, 3P+4D: KV 128 KiB/token over 450 GB/s + 0.05 ms per transfer; prompts with ≤ 1000 uncached tokens prefill on the decode worker');
    expect(lines[5]).toMatch(/^WORKERS\s+ROUTER\s+HIT BLOCKS\s+HIT TOKENS\s+TTFT P50\/P90\/P99 MS\s+TTFT MEAN\s+ITL P50\/P99 MS\s+E2E P50 MS\s+REQ\/S\s+OUT TOK\/S\s+LOAD MAX\/MEAN\s+UNFINISHED\s+KV MOVED GB\s+XFER MEAN MS\s+LOCAL PREFILL\s+SLO MET\s+GOODPUT REQ\/S\s+SPEED$/);
    expect(lines[6]!.split(/\s{2,}/)).toEqual(['8', 'kv', '12.3%', '10.0%', '250 / 9926 / 12.1s', '4238', '11.1 / 12.0', '-', '2.81', '512', '1.23', '2', '-', '-', '-', '93.1%', '6.30', '283×']);
    expect(lines[7]!.split(/\s{2,}/).slice(12)).toEqual(['1500', '4.12', '25.0%', '60.0%', '4.10', '283×']);
    expect(lines.at(-1)).toBe('goodput (ttft ≤ 1000 ms, itl ≤ 50 ms for ≥ 90.0% of requests): 3P+4D with kv meets it with the fewest workers (7 workers, 95.0% of requests, 6.50 req/s)');
    expect(replayedLine(o.runs[1]!)).toBe('replayed 2P+6D with kv in 0.50 s');
  });

  it('names the closest configuration when none meets the SLOs, and adds goodput columns without --disagg', () => {
    const o = outcome({
      runs: [run('kv', {goodput: {met: 300, fraction: 0.75, requestsPerS: 2}}), run('round-robin', {goodput: {met: 200, fraction: 0.5, requestsPerS: 1}})],
      goodput: {slos: {ttftMs: 500, e2eMs: 20000}, minFraction: 0.9},
    });
    expect(goodputVerdict(o)).toBe('goodput (ttft ≤ 500 ms, e2e ≤ 20000 ms for ≥ 90.0% of requests): no configuration meets it; closest: 4 with kv (75.0% of requests)');
    const row = comparisonRow(o.runs[0]!, o);
    expect(Object.keys(row)).not.toContain('kv moved GB');
    expect(row).toMatchObject({workers: '4', 'slo met': '75.0%', 'goodput req/s': '2.00'});
  });
});
