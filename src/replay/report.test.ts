import {describe, expect, it} from 'vitest';
import type {DisaggRun} from './disagg.js';
import {reportReplay} from './report.js';
import {type ReplayRun, emptyTimeline} from './simulate.js';

/** Four requests on workers [0, 0, 1, 2]: (arrival, first token, finish, output tokens). */
function run(): ReplayRun {
  const t = emptyTimeline(4);
  const rows: [number, number, number, number][] = [
    [0, 100, 1000, 10], // ttft 100, itl 100
    [0, 900, 1800, 10], // ttft 900, itl 100
    [0, 100, 100, 1], // ttft 100, no itl (one token)
    [0, 100, Number.NaN, 3], // unfinished
  ];
  rows.forEach(([a, f, e, out], i) => {
    t.arrival[i] = a;
    t.firstToken[i] = f;
    t.finish[i] = e;
    t.outputTokens[i] = out;
    t.inputTokens[i] = 100;
  });
  t.worker.set([0, 0, 1, 2]);
  return {timeline: t, workerIds: ['prefill-0', 'prefill-1', 'decode-0'], endMs: 2000, steps: 1, preemptions: 0};
}

describe('reportReplay goodput and transfers', () => {
  it('counts a request as good only when every SLO it is asked for is measured and met', () => {
    expect(reportReplay(run(), 16)).not.toHaveProperty('goodput');
    expect(reportReplay(run(), 16, {ttftMs: 500}).goodput).toEqual({met: 2, fraction: 0.5, requestsPerS: 1});
    // The one-token answer has no ITL: it fails an ITL SLO, as in AIPerf.
    expect(reportReplay(run(), 16, {ttftMs: 500, itlMs: 100}).goodput).toEqual({met: 1, fraction: 0.25, requestsPerS: 0.5});
    expect(reportReplay(run(), 16, {e2eMs: 1500}).goodput!.met).toBe(2);
  });

  it('measures the load spread over the prefill pool of a disaggregated run, and reports its transfers', () => {
    expect(reportReplay(run(), 16).loadImbalance).toBeCloseTo(200 / (400 / 3), 12);
    const d: DisaggRun = {...run(), balancedWorkers: 2, transfers: {count: 2, bytes: 1000, tokens: 10, skippedTokens: 5, transferMs: 3, waitMs: 1, localPrefills: 1}};
    const r = reportReplay(d, 16);
    expect(r.loadImbalance).toBeCloseTo(200 / 150, 12);
    expect(r.transfer).toEqual({transfers: 2, localPrefills: 1, bytes: 1000, tokens: 10, skippedTokens: 5, meanMs: 1.5, meanWaitMs: 0.5});
  });
});
