import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describe, expect, it} from 'vitest';
import {resolveModel} from '../config/models.js';
import {type ReplayRunResult, type ReplaySettings, fewestWorkersMeeting, runReplay} from './run.js';

const FIXTURE = join(import.meta.dirname, '../../test/fixtures/traces/mooncake-conversation-head400.jsonl');

/** The fixture's first `n` requests in a file of their own. */
function headTrace(n: number): string {
  const trace = join(mkdtempSync(join(tmpdir(), 'replay-run-')), `head${n}.jsonl`);
  writeFileSync(trace, `${readFileSync(FIXTURE, 'utf8').split('\n').slice(0, n).join('\n')}\n`);
  return trace;
}

const settings = (trace: string, over: Partial<ReplaySettings> = {}): ReplaySettings => ({
  trace,
  traceBlockSize: 512,
  speedup: 1,
  workers: 4,
  routers: ['kv'],
  model: resolveModel('llama-3.1-8b'),
  gpu: 'h100',
  gpuMemoryGb: 80,
  blockSize: 64,
  maxNumSeqs: 256,
  maxNumBatchedTokens: 8192,
  overlapWeight: 1,
  temperature: 0,
  ttlSecs: 120,
  maxTreeSize: 1 << 20,
  pruneTargetRatio: 0.8,
  seed: 1,
  ...over,
});

describe('runReplay', () => {
  it('says why a replay will be slow before it starts, then reports each router as it finishes', async () => {
    const s = settings(headTrace(20), {workers: 2, routers: ['round-robin', 'random'], blockSize: 48}); // 512 is not a multiple of 48
    const events: string[] = [];
    const o = await runReplay(s, {onNote: (n) => events.push(n), onRun: (r) => events.push(`ran ${r.router}`)});
    expect(events).toEqual(['note: --trace-block-size 512 is not a multiple of --block-size 48: every prompt is hashed in full (slower)', 'ran round-robin', 'ran random']);
    expect(o.requests).toBe(20);
    expect(o.runs.map((r) => r.report.completed)).toEqual([20, 20]);
  });

  it('replays each split after the aggregated runs, which stay exactly what they are without --disagg', async () => {
    const trace = headTrace(40);
    const oneToken = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('"output_length": 1,')).length;
    const disagg = {splits: [{prefill: 1, decode: 3}, {prefill: 2, decode: 2}], linkGbps: 450, transferLatencyMs: 0.05, maxLocalPrefillTokens: 1000};
    const plain = await runReplay(settings(trace, {routers: ['kv', 'round-robin']}));
    const both = await runReplay(settings(trace, {routers: ['kv', 'round-robin'], disagg, goodput: {slos: {ttftMs: 2000, itlMs: 50}, minFraction: 0.9}}));
    expect(both.runs.map((r) => [r.config, r.router])).toEqual([
      [{kind: 'aggregated', workers: 4}, 'kv'],
      [{kind: 'aggregated', workers: 4}, 'round-robin'],
      [{kind: 'disaggregated', prefill: 1, decode: 3}, 'kv'],
      [{kind: 'disaggregated', prefill: 1, decode: 3}, 'round-robin'],
      [{kind: 'disaggregated', prefill: 2, decode: 2}, 'kv'],
      [{kind: 'disaggregated', prefill: 2, decode: 2}, 'round-robin'],
    ]);
    for (const k of [0, 1]) {
      const {goodput, ...report} = both.runs[k]!.report;
      expect(report).toEqual(plain.runs[k]!.report);
      expect(goodput!.fraction).toBeGreaterThan(0);
    }
    expect(plain.disagg).toBeUndefined();
    expect(both.disagg).toEqual({...disagg, kvBytesPerToken: 131_072});
    for (const r of both.runs.slice(2)) {
      expect(r.report).toMatchObject({requests: 40, completed: 40});
      // Every request is prefilled locally or has its KV moved, except a remote one-token answer (nothing to move).
      const served = r.report.transfer!.transfers + r.report.transfer!.localPrefills;
      expect(served).toBeGreaterThanOrEqual(40 - oneToken);
      expect(served).toBeLessThanOrEqual(40);
      expect(r.report.transfer!.bytes).toBe(r.report.transfer!.tokens * 131_072);
    }
    expect(both.goodput!.slos).toEqual({ttftMs: 2000, itlMs: 50});
  });
});

describe('fewestWorkersMeeting', () => {
  const result = (config: ReplayRunResult['config'], fraction: number, requestsPerS: number): ReplayRunResult =>
    ({router: 'kv', config, report: {goodput: {met: 0, fraction, requestsPerS}}, wallS: 1, speed: 1}) as unknown as ReplayRunResult;

  it('picks, among the configurations meeting the target, the one with the fewest workers, then the higher goodput', () => {
    const agg8 = result({kind: 'aggregated', workers: 8}, 0.95, 6);
    const split6 = result({kind: 'disaggregated', prefill: 2, decode: 4}, 0.91, 5);
    const split6better = result({kind: 'disaggregated', prefill: 3, decode: 3}, 0.93, 5.5);
    const split4 = result({kind: 'disaggregated', prefill: 1, decode: 3}, 0.6, 3);
    expect(fewestWorkersMeeting([agg8, split6, split6better, split4], 0.9)).toBe(split6better);
    expect(fewestWorkersMeeting([agg8, split6, split4], 0.9)).toBe(split6);
    expect(fewestWorkersMeeting([agg8, split6, split4], 0.94)).toBe(agg8);
    expect(fewestWorkersMeeting([agg8, split6, split4], 0.99)).toBeUndefined();
  });
});
