import {describe, expect, it} from 'vitest';
import {aggregate, requestMetrics, type RequestTimeline} from './metrics.js';

/** A request started at `start` whose non-empty chunks arrive at `at` with `tokens` each. */
const tl = (start: number, chunks: [number, number][], extra: Partial<RequestTimeline> = {}): RequestTimeline => ({
  start,
  chunks: chunks.map(([at, tokens]) => ({at, tokens})),
  outputTokens: chunks.reduce((a, [, n]) => a + n, 0),
  inputTokens: 100,
  ...extra,
});

describe('per-request metrics (AIPerf / vLLM definitions)', () => {
  it('TTFT, TTST, E2E, TPOT and chunk gaps on a hand-made timeline, skipping empty chunks', () => {
    // start 0; an empty role chunk at 5; tokens at 50 (1), 60 (1), 80 (2), 100 (1); an empty usage chunk at 101.
    const m = requestMetrics(tl(0, [[5, 0], [50, 1], [60, 1], [80, 2], [100, 1], [101, 0]]));
    expect(m).toMatchObject({ok: true, ttftMs: 50, ttstMs: 10, e2eMs: 100, outputTokens: 5});
    expect(m.tpotMs).toBeCloseTo((100 - 50) / (5 - 1), 12); // 12.5: AIPerf ITL = vLLM TPOT
    expect(m.chunkGapsMs).toEqual([10, 20, 20]); // vLLM ITL: per chunk, a 2-token chunk is one gap
  });

  it('a 1-token output has TTFT and E2E but no TTST and no TPOT', () => {
    const m = requestMetrics(tl(10, [[40, 1]]));
    expect(m).toMatchObject({ok: true, ttftMs: 30, e2eMs: 30, chunkGapsMs: []});
    expect(m.ttstMs).toBeUndefined();
    expect(m.tpotMs).toBeUndefined();
  });

  it('an error or a response without content is not a completed request', () => {
    expect(requestMetrics(tl(0, [[10, 1]], {error: {kind: 'http_503', message: 'busy'}})).ok).toBe(false);
    expect(requestMetrics(tl(0, [[10, 0]])).ok).toBe(false);
  });
});

describe('aggregate', () => {
  const runs = [
    tl(0, [[100, 1], [110, 1], [120, 1]], {usage: {promptTokens: 100, completionTokens: 3}}), // ttft 100, tpot 10
    tl(50, [[250, 1], [270, 1], [290, 1]], {usage: {promptTokens: 100, completionTokens: 4}}), // ttft 200, tpot 20
    tl(100, [[400, 1]]), // ttft 300, 1 token
    tl(150, [], {error: {kind: 'timeout', message: 'no answer'}}),
    tl(200, [[210, 0]]), // nothing came back
  ];

  it('throughputs over first start → last response, errors by kind, token count discrepancy', () => {
    const a = aggregate(runs);
    expect(a).toMatchObject({requests: 5, completed: 3, errors: {timeout: 1, empty_response: 1}, durationMs: 400});
    expect(a.ttftMs).toMatchObject({count: 3, mean: 200, min: 100, max: 300, p50: 200});
    expect(a.tpotMs).toMatchObject({count: 2, mean: 15});
    expect(a.chunkItlMs).toMatchObject({count: 4, mean: 15});
    expect(a.requestThroughput).toBeCloseTo(3 / 0.4, 12);
    expect(a.outputTokenThroughput).toBeCloseTo(7 / 0.4, 12);
    expect(a.totalTokenThroughput).toBeCloseTo(307 / 0.4, 12);
    expect(a.goodput).toBeUndefined();
    // Re-tokenized 3 + 3 against usage 3 + 4: −14.3 %.
    expect(a.tokenCounts).toMatchObject({retokenized: 6, usage: 7});
    expect(a.tokenCounts.discrepancyPct).toBeCloseTo(-100 / 7, 10);
  });

  it('goodput counts requests meeting every SLO; a metric a request lacks fails its SLO', () => {
    expect(aggregate(runs, [{metric: 'ttftMs', maxMs: 250}]).goodput).toBeCloseTo(2 / 0.4, 12);
    expect(aggregate(runs, [{metric: 'ttftMs', maxMs: 250}, {metric: 'tpotMs', maxMs: 15}]).goodput).toBeCloseTo(1 / 0.4, 12);
    // The 1-token request has TTFT 300 ≤ 1000 but no TPOT: it fails.
    expect(aggregate(runs, [{metric: 'ttftMs', maxMs: 1000}, {metric: 'tpotMs', maxMs: 100}]).goodput).toBeCloseTo(2 / 0.4, 12);
  });

  it('an empty run has no duration and no throughput', () => {
    const a = aggregate([]);
    expect(a).toMatchObject({requests: 0, completed: 0, durationMs: 0, requestThroughput: 0});
  });
});
